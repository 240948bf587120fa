"""Compiles the same pipeline for Kubeflow Pipelines (v2 IR JSON), to run in a container image.

Only the orchestrator changes: paths in the config should point at shared storage (gs://...,
s3://...), ``beam_args`` at a distributed runner, and the image must have this package
installed (user code is referenced by dotted path).
"""

from __future__ import annotations

import os

from tfx import v1 as tfx

from pipeline.configs import pipeline_kwargs
from pipeline.pipeline import create_pipeline
from rtrec.config import RtrecConfig


def compile_pipeline(cfg: RtrecConfig, image: str, output_file: str) -> str:
    """Write the Kubeflow Pipelines v2 definition of ``cfg``'s pipeline; returns its path."""
    pipeline = create_pipeline(**pipeline_kwargs(cfg))
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=os.path.dirname(os.path.abspath(output_file)),
        output_filename=os.path.basename(output_file),
    )
    runner.run(pipeline)
    return output_file
