"""Hand-computed checks of the top-K ranking metrics."""

from __future__ import annotations

import numpy as np
import pytest

from rtrec.evaluation import metrics as m

# User 0 ranks [3, 1, 2] with targets {1, 5}: a hit at rank 2. User 1 hits nothing.
RANKED = np.array([[3, 1, 2], [0, 1, 2]])
TARGETS = [np.array([1, 5]), np.array([7])]
LOG2_3 = np.log2(3.0)


def test_hit_matrix_marks_targets_per_row() -> None:
    hits = m.hit_matrix(RANKED, TARGETS)
    assert hits.tolist() == [[False, True, False], [False, False, False]]


def test_hit_matrix_rejects_mismatched_rows() -> None:
    with pytest.raises(ValueError, match="one row per target set"):
        m.hit_matrix(RANKED, TARGETS[:1])


def test_per_user_metrics() -> None:
    hits = m.hit_matrix(RANKED, TARGETS)
    n_targets = m.target_counts(TARGETS)
    assert m.hit_rate(hits, 1).tolist() == [0.0, 0.0]
    assert m.hit_rate(hits, 2).tolist() == [1.0, 0.0]
    assert m.recall(hits, n_targets, 2).tolist() == [0.5, 0.0]
    assert m.precision(hits, 2).tolist() == [0.5, 0.0]
    assert m.precision(hits, 3).tolist() == pytest.approx([1 / 3, 0.0])
    assert m.f1(hits, n_targets, 2).tolist() == [0.5, 0.0]
    # F1@3: p = 1/3, r = 1/2 -> 2 * (1/6) / (5/6) = 0.4.
    assert m.f1(hits, n_targets, 3).tolist() == pytest.approx([0.4, 0.0])
    # DCG@2 = 1/log2(3); ideal over min(2 targets, 2) = 1 + 1/log2(3).
    expected = (1 / LOG2_3) / (1 + 1 / LOG2_3)
    assert m.ndcg(hits, n_targets, 2).tolist() == pytest.approx([expected, 0.0])
    assert m.ndcg(hits, n_targets, 3).tolist() == pytest.approx([expected, 0.0])
    assert m.reciprocal_rank(hits).tolist() == [0.5, 0.0]
    assert m.reciprocal_rank(hits, cutoff=1).tolist() == [0.0, 0.0]


def test_ndcg_is_one_when_the_top_is_all_targets() -> None:
    hits = m.hit_matrix(np.array([[4, 2]]), [np.array([0, 1, 2, 3, 4])])
    assert m.ndcg(hits, np.array([5]), 2).tolist() == [1.0]
    # One target found at rank 1 of K=2 with a single target: ideal DCG is 1.
    hits = m.hit_matrix(np.array([[4, 2]]), [np.array([4])])
    assert m.ndcg(hits, np.array([1]), 2).tolist() == [1.0]


def test_coverage_counts_distinct_recommended_items() -> None:
    assert m.coverage(RANKED, 2, n_items=10) == 0.3
    assert m.coverage(RANKED, 3, n_items=10) == 0.4


def test_ranking_metrics_names_and_means() -> None:
    result = m.ranking_metrics(RANKED, TARGETS, ks=(2,), n_items=10)
    assert result["users"] == 2
    assert result["HR@2"] == 0.5
    assert result["recall@2"] == 0.25
    assert result["precision@2"] == 0.25
    assert result["F1@2"] == 0.25
    assert result["NDCG@2"] == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3) / 2)
    assert result["MRR"] == 0.25
    assert result["coverage@2"] == 0.3


def test_ranking_metrics_of_nobody_is_only_a_count() -> None:
    assert m.ranking_metrics(np.zeros((0, 3), dtype=int), [], ks=(2,), n_items=10) == {"users": 0}
