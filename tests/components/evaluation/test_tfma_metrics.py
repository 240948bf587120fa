"""recall@K, precision@K, F1@K, NDCG@K and MRR against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_types

from components.evaluation import tfma_metrics
from components.evaluation.tfma_metrics import TopKRetrieval, metric_names
from rtrec.evaluation.metrics import ranking_metrics


def _run_combiner(metric, labels, rankings):
    (computation,) = metric.computations(model_names=[""], output_names=[""])
    combiner = computation.combiner
    acc = combiner.create_accumulator()
    for label, ranked in zip(labels, rankings):
        element = metric_types.StandardMetricInputs(
            labels=np.array([label.encode()]),
            predictions={"item_ids": np.array([r.encode() for r in ranked])},
        )
        acc = combiner.add_input(acc, element)
    merged = combiner.merge_accumulators([acc, combiner.create_accumulator()])
    return {key.name: value for key, value in combiner.extract_output(merged).items()}


def test_combiner_averages_over_examples():
    out = _run_combiner(
        TopKRetrieval(ks=[1, 2], curve_max_k=3), ["a", "b"], [["a", "x"], ["x", "b"]]
    )
    assert out["recall@1"] == 0.5 and out["recall@2"] == 1.0
    assert out["precision@2"] == 0.5
    assert out["F1@1"] == pytest.approx(0.5)  # (1 + 0) / 2
    assert out["NDCG@2"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert out["MRR"] == pytest.approx(0.75)
    assert out["curve_recall@3"] == 1.0
    assert set(metric_names([1, 2])) <= set(out)


def test_metric_is_registered_for_eval_configs():
    assert tfma.metrics.metric_types.is_registered_metric("TopKRetrieval")


def test_hand_computed_single_target_and_two_targets():
    out = _run_combiner(TopKRetrieval(ks=[3], curve_max_k=4), ["c"], [["a", "b", "c", "d"]])
    # F1@3 = 2 * (1/3 * 1) / (1/3 + 1) = 0.5; NDCG@3 = 1 / log2(4); RR = 1/3
    assert out["recall@3"] == 1.0 and out["precision@3"] == pytest.approx(1 / 3)
    assert out["F1@3"] == pytest.approx(0.5) and out["NDCG@3"] == pytest.approx(0.5)
    assert out["MRR"] == pytest.approx(1 / 3) and out["curve_recall@2"] == 0.0


@pytest.mark.parametrize("flush_rows", [1, 7, 1024])
def test_the_gate_and_the_offline_benchmark_give_the_same_numbers(monkeypatch, flush_rows):
    monkeypatch.setattr(tfma_metrics, "FLUSH_ROWS", flush_rows)
    rng = np.random.default_rng(0)
    n_users, n_items, depth = 200, 60, 50
    ranked = np.stack([rng.permutation(n_items)[:depth] for _ in range(n_users)])
    targets = [rng.choice(n_items, size=1, replace=False) for _ in range(n_users)]
    ks = [1, 5, 10, 50]
    offline = ranking_metrics(ranked, targets, ks, n_items)
    gate = _run_combiner(
        TopKRetrieval(ks=ks, curve_max_k=depth),
        [str(t[0]) for t in targets],
        [[str(i) for i in row] for row in ranked],
    )
    for k in ks:
        for name in ("recall", "precision", "F1", "NDCG"):
            assert gate[f"{name}@{k}"] == pytest.approx(offline[f"{name}@{k}"], abs=1e-12)
    assert gate["MRR"] == pytest.approx(offline["MRR"], abs=1e-12)
