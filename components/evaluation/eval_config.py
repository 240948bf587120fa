"""The TFMA EvalConfig of the blessing gate: models, slices, metrics and thresholds.

Value thresholds bound recall@K / F1@K on the whole split and on the cold-item slice; change
thresholds bound the relative drop against the latest blessed model (TFX drops them when there
is no baseline yet, on a first run).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import tensorflow_model_analysis as tfma

from rtrec import features as fk
from rtrec.features import EVAL_SIGNATURE

CANDIDATE, BASELINE = "candidate", "baseline"
METRICS_MODULE = "components.evaluation.tfma_metrics"
SLICE_FEATURES = (
    fk.TARGET_UNSEEN_IN_TRAIN,
    fk.HISTORY_BUCKET,
    fk.TARGET_POPULARITY,
    fk.TARGET_EVENT_TYPE,
)
COLD_SLICE = tfma.SlicingSpec(feature_values={fk.TARGET_UNSEEN_IN_TRAIN: "1"})
OVERALL_SLICE = tfma.SlicingSpec()


def _higher_is_better(lower_bound: float | None, regression: float | None):
    threshold = tfma.MetricThreshold()
    if lower_bound is not None:
        threshold.value_threshold.lower_bound.value = lower_bound
    if regression is not None:
        threshold.change_threshold.direction = tfma.MetricDirection.HIGHER_IS_BETTER
        threshold.change_threshold.relative.value = -regression
    return threshold


def build_eval_config(
    ks: Sequence[int],
    min_values: Mapping[str, float],
    min_cold_values: Mapping[str, float],
    max_relative_regression: float,
    regression_metrics: Sequence[str],
    curve_max_k: int = 100,
) -> tfma.EvalConfig:
    """EvalConfig for the candidate (and the baseline, when TFX resolves one)."""
    model_specs = [
        tfma.ModelSpec(
            name=name,
            signature_name=EVAL_SIGNATURE,
            label_key=fk.TARGET_ITEM_ID,
            is_baseline=name == BASELINE,
        )  # fmt: skip
        for name in (CANDIDATE, BASELINE)
    ]
    slicing_specs = [tfma.SlicingSpec()] + [
        tfma.SlicingSpec(feature_keys=[key]) for key in SLICE_FEATURES
    ]
    # Per-slice thresholds only: MetricsSpec.thresholds would bind every slice (a tiny slice
    # such as 'rate events' would then veto the model).
    per_slice: dict[str, list] = {}
    for name in sorted(set(min_values) | set(regression_metrics)):
        regression = max_relative_regression if name in regression_metrics else None
        threshold = _higher_is_better(min_values.get(name), regression)
        per_slice.setdefault(name, []).append((OVERALL_SLICE, threshold))
    for name, bound in min_cold_values.items():
        per_slice.setdefault(name, []).append((COLD_SLICE, _higher_is_better(bound, None)))
    thresholds = {
        name: tfma.PerSliceMetricThresholds(
            thresholds=[
                tfma.PerSliceMetricThreshold(slicing_specs=[spec], threshold=threshold)
                for spec, threshold in entries
            ]
        )
        for name, entries in per_slice.items()
    }
    metrics = [
        tfma.MetricConfig(class_name="ExampleCount"),
        tfma.MetricConfig(
            class_name="TopKRetrieval",
            module=METRICS_MODULE,
            config=json.dumps({"ks": list(ks), "curve_max_k": curve_max_k}),
        ),
    ]
    return tfma.EvalConfig(
        model_specs=model_specs,
        slicing_specs=slicing_specs,
        metrics_specs=[tfma.MetricsSpec(metrics=metrics, per_slice_thresholds=thresholds)],
    )
