"""Runs the pipeline in-process with TFX's LocalDagRunner, Beam's DirectRunner and SQLite MLMD."""

from __future__ import annotations

import os

from tfx import v1 as tfx

from pipeline.configs import pipeline_kwargs
from pipeline.pipeline import create_pipeline
from rtrec.config import RtrecConfig


def build(cfg: RtrecConfig) -> tfx.dsl.Pipeline:
    """The pipeline for ``cfg`` with local SQLite metadata and absolute local paths."""
    os.makedirs(cfg.output_dir, exist_ok=True)
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        os.path.abspath(cfg.metadata_path)
    )
    return create_pipeline(
        **pipeline_kwargs(cfg, os.path.abspath), metadata_connection_config=metadata
    )


def run(cfg: RtrecConfig) -> None:
    """Run the whole pipeline locally; raises if any component fails."""
    tfx.orchestration.LocalDagRunner().run(build(cfg))
