"""A TFMA metric for retrieval over id sets: recall@K, precision@K, F1@K, NDCG@K and MRR.

TFMA's ``SetMatchRecall``/``SetMatchPrecision`` cover two of these, but TFMA has no set-based
F1 and its NDCG needs query grouping, so one combiner computes all five from the same pass. It
marks, per example, which of the model's ranked ``item_ids`` are target ids, and scores those
hit rows with ``rtrec.evaluation.metrics`` (``metric_sums``), the very functions the offline
benchmark uses, so the blessing gate and the benchmark cannot disagree on a formula. It also
emits ``recall@k`` for k = 1..``curve_max_k`` (the report's recall curve). Registered with TFMA,
so an EvalConfig names it by ``module`` + ``class_name`` and thresholds refer to its names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import apache_beam as beam
import numpy as np
import tensorflow_text  # noqa: F401  (registers the TF Text ops the served model uses)
from tensorflow_model_analysis.metrics import metric_types

from rtrec.evaluation.metrics import CURVE_METRICS, metric_sums

PREDICTION_KEY = "item_ids"
NAME = "top_k_retrieval"
FLUSH_ROWS = 1024
"""Hit rows buffered per accumulator before they are scored (bounded memory, vector speed)."""


def metric_names(ks: Sequence[int]) -> list[str]:
    """Names this metric emits for ``ks`` (besides the recall curve)."""
    names = [f"{m}@{k}" for k in ks for m in CURVE_METRICS]
    return [*names, "MRR"]


def hit_row(targets: set, ranked: Sequence, max_k: int) -> np.ndarray:
    """[max_k] bool: which of the top ``max_k`` ranked ids are targets (padded with misses)."""
    hit = np.zeros(max_k, dtype=bool)
    for position, item in enumerate(list(ranked)[:max_k]):
        hit[position] = item in targets
    return hit


class _Accumulator:
    __slots__ = ("count", "sums", "rows", "n_targets")

    def __init__(self, max_k: int):
        self.count = 0
        self.sums = {m: np.zeros(max_k) for m in CURVE_METRICS}
        self.sums["rr"] = np.zeros(1)
        self.rows: list[np.ndarray] = []
        self.n_targets: list[int] = []

    def flush(self, max_k: int) -> None:
        """Score the buffered hit rows into the sums."""
        if not self.rows:
            return
        sums = metric_sums(np.stack(self.rows), np.array(self.n_targets), range(1, max_k + 1))
        for name, value in sums.items():
            self.sums[name] = self.sums[name] + value
        self.count += len(self.rows)
        self.rows, self.n_targets = [], []


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
        label = element.get_labels(self.model or None, self.output or None)
        targets = {t for t in _as_texts(label) if t}
        acc.rows.append(hit_row(targets, _as_texts(prediction), self.max_k))
        acc.n_targets.append(len(targets))
        if len(acc.rows) >= FLUSH_ROWS:
            acc.flush(self.max_k)
        return acc

    def merge_accumulators(self, accumulators: Iterable[_Accumulator]) -> _Accumulator:
        merged = _Accumulator(self.max_k)
        for acc in accumulators:
            acc.flush(self.max_k)
            merged.count += acc.count
            for name in merged.sums:
                merged.sums[name] = merged.sums[name] + acc.sums[name]
        return merged

    def extract_output(self, acc: _Accumulator) -> dict:
        acc.flush(self.max_k)
        n = max(acc.count, 1)
        out = {}
        for name, key in self.keys.items():
            if name == "MRR":
                out[key] = float(acc.sums["rr"][0] / n)
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
