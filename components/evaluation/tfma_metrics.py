"""A TFMA metric for retrieval over id sets: recall@K, precision@K, F1@K, NDCG@K and MRR.

TFMA's ``SetMatchRecall``/``SetMatchPrecision`` cover two of these, but TFMA has no set-based
F1 and its NDCG needs query grouping, so one combiner computes all five from the same pass:
per example, the positions of the target ids in the model's ranked ``item_ids``. It also emits
``recall@k`` for k = 1..``curve_max_k`` (the report's recall curve). Registered with TFMA, so an
EvalConfig names it by ``module`` + ``class_name`` and thresholds refer to its metric names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import apache_beam as beam
import numpy as np
import tensorflow_text  # noqa: F401  (registers the TF Text ops the served model uses)
from tensorflow_model_analysis.metrics import metric_types

PREDICTION_KEY = "item_ids"
NAME = "top_k_retrieval"


def metric_names(ks: Sequence[int]) -> list[str]:
    """Names this metric emits for ``ks`` (besides the recall curve)."""
    names = [f"{m}@{k}" for k in ks for m in ("recall", "precision", "F1", "NDCG")]
    return [*names, "MRR"]


def example_sums(targets: set, ranked: Sequence, max_k: int) -> dict[str, np.ndarray]:
    """Per-k sums for one example: hits@k, recall@k, precision@k, F1@k, NDCG@k; reciprocal rank."""
    hit = np.array([item in targets for item in list(ranked)[:max_k]], dtype=np.float64)
    hit = np.pad(hit, (0, max_k - len(hit)))
    ks = np.arange(1, max_k + 1)
    hits_at = np.cumsum(hit)
    n = max(len(targets), 1)
    recall = hits_at / n
    precision = hits_at / ks
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(hits_at > 0, 2 * precision * recall / (precision + recall), 0.0)
    gains = hit / np.log2(ks + 1)
    ideal = np.cumsum(1.0 / np.log2(ks + 1))[np.minimum(ks, n) - 1]
    ndcg = np.cumsum(gains) / ideal
    first = np.flatnonzero(hit)
    rr = 1.0 / (first[0] + 1) if len(first) else 0.0
    return {"recall": recall, "precision": precision, "F1": f1, "NDCG": ndcg, "rr": rr}


class _Accumulator:
    __slots__ = ("count", "sums")

    def __init__(self, max_k: int):
        self.count = 0.0
        self.sums = {m: np.zeros(max_k) for m in ("recall", "precision", "F1", "NDCG")}
        self.sums["rr"] = 0.0


def _as_texts(values) -> list[str]:
    flat = np.asarray(values).reshape(-1)
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat]


class _Combiner(beam.CombineFn):
    def __init__(self, keys: dict, ks: Sequence[int], max_k: int, model: str, output: str):
        self.keys, self.ks, self.max_k = keys, list(ks), max_k
        self.model, self.output = model, output

    def create_accumulator(self) -> _Accumulator:
        return _Accumulator(self.max_k)

    def add_input(self, acc: _Accumulator, element: metric_types.StandardMetricInputs):
        prediction = element.get_predictions(self.model or None, self.output or None)
        if isinstance(prediction, dict):
            prediction = prediction[PREDICTION_KEY]
        ranked = _as_texts(prediction)
        label = element.get_labels(self.model or None, self.output or None)
        targets = {t for t in _as_texts(label) if t}
        sums = example_sums(targets, ranked, self.max_k)
        acc.count += 1
        for name, value in sums.items():
            acc.sums[name] = acc.sums[name] + value
        return acc

    def merge_accumulators(self, accumulators: Iterable[_Accumulator]) -> _Accumulator:
        merged = _Accumulator(self.max_k)
        for acc in accumulators:
            merged.count += acc.count
            for name in merged.sums:
                merged.sums[name] = merged.sums[name] + acc.sums[name]
        return merged

    def extract_output(self, acc: _Accumulator) -> dict:
        n = max(acc.count, 1.0)
        out = {}
        for name, key in self.keys.items():
            if name == "MRR":
                out[key] = float(acc.sums["rr"] / n)
            elif name.startswith("curve_recall@"):
                out[key] = float(acc.sums["recall"][int(name.split("@")[1]) - 1] / n)
            else:
                metric, k = name.split("@")
                out[key] = float(acc.sums[metric][int(k) - 1] / n)
        return out


def _computations(
    ks: Sequence[int] = (10, 50),
    curve_max_k: int = 100,
    name: str = NAME,
    eval_config=None,
    model_names: Sequence[str] = ("",),
    output_names: Sequence[str] = ("",),
    sub_keys=None,
    example_weighted: bool = False,
    **_,
) -> metric_types.MetricComputations:
    max_k = max(curve_max_k, *ks)
    computations = []
    for model_name in model_names:
        for output_name in output_names:
            names = metric_names(ks) + [f"curve_recall@{k}" for k in range(1, curve_max_k + 1)]
            keys = {
                n: metric_types.MetricKey(
                    name=n,
                    model_name=model_name,
                    output_name=output_name,
                    # Unset, like in-graph metrics: MetricsSpec.thresholds match only such keys.
                    example_weighted=None,
                )
                for n in names
            }
            computations.append(
                metric_types.MetricComputation(
                    keys=list(keys.values()),
                    preprocessors=None,
                    combiner=_Combiner(keys, ks, max_k, model_name, output_name),
                )
            )
    return computations


class TopKRetrieval(metric_types.Metric):
    """recall@K, precision@K, F1@K, NDCG@K and MRR of a ranked ``item_ids`` output vs label ids."""

    def __init__(self, ks: Sequence[int] = (10, 50), curve_max_k: int = 100, name: str = NAME):
        super().__init__(_computations, ks=list(ks), curve_max_k=curve_max_k, name=name)


metric_types.register_metric(TopKRetrieval)
