"""Compiles the same pipeline for Kubeflow Pipelines (v2 IR JSON), to run in a container image.

Only the orchestrator changes: paths in the config should point at shared storage (gs://...,
s3://...), ``beam_args`` at a distributed runner, and the image must have this package
installed (user code is referenced by dotted path).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict

from tfx import v1 as tfx

from pipeline.local_runner import eval_config
from pipeline.pipeline import create_pipeline
from rtrec.config import RtrecConfig


def compile_pipeline(cfg: RtrecConfig, image: str, output_file: str) -> str:
    """Write the Kubeflow Pipelines v2 definition of ``cfg``'s pipeline; returns its path."""
    pipeline = create_pipeline(
        pipeline_name=cfg.pipeline_name,
        pipeline_root=cfg.pipeline_root,
        events=cfg.events,
        items=cfg.items,
        ingestion_config_json=json.dumps(asdict(cfg.ingestion), sort_keys=True),
        preprocessing_fn="trainer.preprocessing.preprocessing_fn",
        transform_config=asdict(cfg.transform),
        beam_pipeline_args=list(cfg.beam_args),
        encoder=cfg.trainer.encoder,
        max_tokens=cfg.trainer.max_tokens,
        embedding_cache_dir=cfg.trainer.embedding_cache_dir,
        hparams={**cfg.trainer.hparams, "history_length": cfg.ingestion.history_length},
        eval_config=eval_config(cfg),
        push_directory=os.path.join(cfg.evaluation.serving_root, cfg.evaluation.model_name),
        infra_validation=cfg.evaluation.infra_validation,
        serving_image_tag=cfg.evaluation.serving_image_tag,
        stop_after=cfg.stop_after,
    )
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=os.path.dirname(os.path.abspath(output_file)),
        output_filename=os.path.basename(output_file),
    )
    runner.run(pipeline)
    return output_file
