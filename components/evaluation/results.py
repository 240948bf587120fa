"""Reading an Evaluator run back: metrics per slice and model, and why a model was not blessed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import tensorflow_model_analysis as tfma

from components.evaluation.eval_config import BASELINE

OVERALL = "overall"


@dataclass
class Failure:
    """One failed threshold: which metric on which slice, its value and the bound it missed."""

    slice_name: str
    metric: str
    value: float | None
    bound: str

    def __str__(self) -> str:
        shown = "missing" if self.value is None else f"{self.value:.4f}"
        return f"{self.metric} on {self.slice_name} = {shown}, required {self.bound}"


@dataclass
class GateResult:
    """The Evaluator's verdict and its numbers, keyed slice -> model -> metric -> value."""

    blessed: bool
    failures: list[Failure] = field(default_factory=list)
    metrics: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    has_baseline: bool = False


def slice_name(slice_key) -> str:
    """'overall' or 'feature=value' for TFMA slice keys (tuples or protos)."""
    if not slice_key:
        return OVERALL
    if hasattr(slice_key, "single_slice_keys"):
        parts = []
        for key in slice_key.single_slice_keys:
            value = key.bytes_value.decode() if key.HasField("bytes_value") else (
                key.int64_value if key.HasField("int64_value") else key.float_value
            )  # fmt: skip
            parts.append(f"{key.column}={value}")
        return ", ".join(parts) or OVERALL
    return ", ".join(f"{k}={v}" for k, v in slice_key)


def _bound(threshold) -> str:
    if threshold.HasField("value_threshold"):
        return f">= {threshold.value_threshold.lower_bound.value:.4f}"
    change = threshold.change_threshold
    return f"no worse than {change.relative.value:+.0%} vs the blessed model"


def _value(metric_value) -> float | None:
    if metric_value.HasField("double_value"):
        return metric_value.double_value.value
    return None


def load_gate(evaluation_uri: str, blessing_uri: str | None = None) -> GateResult:
    """Metrics and validation of one Evaluator run (``blessing_uri`` decides 'blessed')."""
    validation = tfma.load_validation_result(evaluation_uri)
    blessed = validation.validation_ok
    if blessing_uri:
        blessed = os.path.exists(os.path.join(blessing_uri, "BLESSED"))
    failures = []
    for per_slice in validation.metric_validations_per_slice:
        name = slice_name(per_slice.slice_key)
        for failure in per_slice.failures:
            metric = failure.metric_key.name
            if failure.metric_key.is_diff:
                metric += " (change)"
            failures.append(
                Failure(
                    name, metric, _value(failure.metric_value), _bound(failure.metric_threshold)
                )
            )
    result = GateResult(blessed=blessed, failures=failures)
    for record in tfma.load_metrics(evaluation_uri):
        name = slice_name(record.slice_key)
        for entry in record.metric_keys_and_values:
            value = _value(entry.value)
            if value is None or entry.key.is_diff:
                continue
            model = entry.key.model_name or "candidate"
            if model == BASELINE:
                result.has_baseline = True
            result.metrics.setdefault(name, {}).setdefault(model, {})[entry.key.name] = value
    return result
