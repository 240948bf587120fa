"""recall@K, precision@K, F1@K, NDCG@K and MRR against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_types

from components.evaluation.tfma_metrics import TopKRetrieval, example_sums, metric_names


def test_single_target_hit_at_rank_three():
    sums = example_sums({"c"}, ["a", "b", "c", "d"], 4)
    assert list(sums["recall"]) == [0, 0, 1, 1]
    assert sums["precision"][2] == pytest.approx(1 / 3) and sums["precision"][3] == 0.25
    # F1@3 = 2 * (1/3 * 1) / (1/3 + 1) = 0.5
    assert sums["F1"][2] == pytest.approx(0.5)
    assert sums["NDCG"][2] == pytest.approx(1 / math.log2(4))
    assert sums["rr"] == pytest.approx(1 / 3)


def test_two_targets_and_a_miss():
    sums = example_sums({"a", "z"}, ["a", "b", "c"], 3)
    assert list(sums["recall"]) == [0.5, 0.5, 0.5]
    # DCG@3 = 1; IDCG@3 over min(2, 3) targets = 1 + 1/log2(3)
    assert sums["NDCG"][2] == pytest.approx(1 / (1 + 1 / math.log2(3)))
    miss = example_sums({"q"}, ["a", "b"], 3)
    assert miss["rr"] == 0 and not miss["recall"].any() and not miss["F1"].any()


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
