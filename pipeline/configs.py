"""``create_pipeline`` arguments from an ``RtrecConfig``: shared by every runner.

User code is named by dotted path so the same graph runs in-process and in a container image.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace

from components.evaluation.eval_config import build_eval_config
from rtrec import features as fk
from rtrec.beam_config import beam_args
from rtrec.config import RtrecConfig
from trainer.preprocessing import ITEM_MIN_FREQUENCY
from trainer.task import EVAL_KS, HPARAMS, SESSION_GAP_S

PREPROCESSING_FN = "trainer.preprocessing.preprocessing_fn"
RUN_FN = "trainer.task.run_fn"


def eval_config(cfg: RtrecConfig):
    """The blessing gate's TFMA config from the run's evaluation settings."""
    e = cfg.evaluation
    return build_eval_config(
        e.ks, e.min_values, e.min_cold_values, e.max_relative_regression, e.regression_metrics
    )


def drift_thresholds(cfg: RtrecConfig) -> dict[str, tuple[str, float]] | None:
    """The DistributionValidator's comparators from ``cfg.drift`` (None: drift is off)."""
    if not cfg.drift.enabled:
        return None
    return {
        fk.TARGET_ITEM_ID: ("infinity_norm", cfg.drift.item_linf),
        fk.TARGET_CATEGORY: ("jensen_shannon_divergence", cfg.drift.category_js),
    }


def _resolved(cfg: RtrecConfig, resolve: Callable[[str], str]):
    """The ingestion settings with the tombstone path resolved like the other inputs."""
    stones = cfg.ingestion.tombstones
    if stones and not any(ch in stones for ch in "*?["):
        stones = resolve(stones)
    return replace(cfg.ingestion, tombstones=stones)


def pipeline_kwargs(
    cfg: RtrecConfig, resolve: Callable[[str], str] = lambda p: p, image: str = ""
) -> dict:
    """Keyword arguments of ``create_pipeline``; ``resolve`` maps local paths (e.g. abspath).

    ``image`` is the container image the pipeline runs in (Kubeflow); Beam workers on Dataflow or
    in a DOCKER environment run it too, unless the ``beam`` section names another.
    """
    cache = cfg.trainer.embedding_cache_dir
    hp = cfg.trainer.hparams
    return {
        "pipeline_name": cfg.pipeline_name,
        "pipeline_root": resolve(cfg.pipeline_root),
        "events": cfg.events if "*" in cfg.events else resolve(cfg.events),
        "items": cfg.items if "*" in cfg.items else resolve(cfg.items),
        "ingestion_config_json": json.dumps(asdict(_resolved(cfg, resolve)), sort_keys=True),
        "history_length": hp.history_length,
        "preprocessing_fn": PREPROCESSING_FN,
        "transform_config": {ITEM_MIN_FREQUENCY: cfg.transform.item_min_frequency},
        "beam_pipeline_args": beam_args(cfg.beam, image),
        "encoder": hp.encoder,
        "max_tokens": hp.max_tokens,
        "embedding_cache_dir": resolve(cache) if cache else "",
        "run_fn": RUN_FN,
        "trainer_config": {
            HPARAMS: hp.to_dict(),
            SESSION_GAP_S: float(cfg.ingestion.session_gap_s),
            EVAL_KS: list(cfg.evaluation.ks),
        },
        "eval_config": eval_config(cfg),
        "push_directory": resolve(cfg.push_directory),
        "infra_validation": cfg.evaluation.infra_validation,
        "serving_image_tag": cfg.evaluation.serving_image_tag,
        "stop_after": cfg.stop_after,
        "warm_start": cfg.trainer.warm_start,
        "drift_thresholds": drift_thresholds(cfg),
    }
