"""Runs the pipeline in-process with TFX's LocalDagRunner, Beam's DirectRunner and SQLite MLMD."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

from tfx import v1 as tfx

from components.evaluation.eval_config import build_eval_config
from pipeline.pipeline import create_pipeline
from rtrec.config import RtrecConfig

PREPROCESSING_FN = "trainer.preprocessing.preprocessing_fn"


def eval_config(cfg: RtrecConfig):
    """The blessing gate's TFMA config from the run's evaluation settings."""
    e = cfg.evaluation
    return build_eval_config(
        e.ks, e.min_values, e.min_cold_values, e.max_relative_regression, e.regression_metrics
    )


def build(cfg: RtrecConfig) -> tfx.dsl.Pipeline:
    """The pipeline for ``cfg`` with local SQLite metadata."""
    os.makedirs(cfg.output_dir, exist_ok=True)
    return create_pipeline(
        pipeline_name=cfg.pipeline_name,
        pipeline_root=os.path.abspath(cfg.pipeline_root),
        events=os.path.abspath(cfg.events) if "*" not in cfg.events else cfg.events,
        items=os.path.abspath(cfg.items) if "*" not in cfg.items else cfg.items,
        ingestion_config_json=json.dumps(asdict(cfg.ingestion), sort_keys=True),
        preprocessing_fn=PREPROCESSING_FN,
        transform_config=asdict(cfg.transform),
        beam_pipeline_args=list(cfg.beam_args),
        encoder=cfg.trainer.encoder,
        max_tokens=cfg.trainer.max_tokens,
        embedding_cache_dir=(
            os.path.abspath(cfg.trainer.embedding_cache_dir)
            if cfg.trainer.embedding_cache_dir
            else ""
        ),
        hparams={**cfg.trainer.hparams, "history_length": cfg.ingestion.history_length},
        eval_config=eval_config(cfg),
        infra_validation=cfg.evaluation.infra_validation,
        serving_image_tag=cfg.evaluation.serving_image_tag,
        push_directory=os.path.abspath(
            os.path.join(cfg.evaluation.serving_root, cfg.evaluation.model_name)
        ),
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            os.path.abspath(cfg.metadata_path)
        ),
        stop_after=cfg.stop_after,
    )


def run(cfg: RtrecConfig) -> None:
    """Run the whole pipeline locally; raises if any component fails."""
    tfx.orchestration.LocalDagRunner().run(build(cfg))
