"""Tests for full-catalog ranking, per-slice results and the result table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from rtrec.evaluation.baselines import Popularity
from rtrec.evaluation.interactions import build_interactions
from rtrec.evaluation.protocols import EvalCase, Split, TrainData, leave_last_out, temporal
from rtrec.evaluation.runner import evaluate, format_table, rank_top_k


class Oracle:
    """Scores each case's targets highest: every metric it can max out, it does."""

    def __init__(self, n_items: int, name: str = "oracle") -> None:
        self.name = name
        self.n_items = n_items

    def fit(self, train: TrainData) -> None:
        self.n_items = train.n_items

    def score(self, cases: Sequence[EvalCase]) -> np.ndarray:
        scores = np.zeros((len(cases), self.n_items))
        for row, case in enumerate(cases):
            scores[row, case.targets] = 1.0
            scores[row, case.history] = 5.0  # must be masked by the runner
        return scores


class Fixed:
    """Returns the same score vector for everyone (or a wrong shape, to test the check)."""

    def __init__(self, vector: np.ndarray, name: str = "fixed") -> None:
        self.name = name
        self.vector = vector

    def fit(self, train: TrainData) -> None:
        pass

    def score(self, cases: Sequence[EvalCase]) -> np.ndarray:
        return np.tile(self.vector, (len(cases), 1))


def _split() -> Split:
    rows = []
    for user in range(6):
        for step, item in enumerate([user % 4, (user + 1) % 4, (user + 2) % 4 + 4 * (user == 5)]):
            rows.append((f"u{user}", f"i{item}", "view", str(10 * user + step)))
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "event_type", "timestamp"])
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(12)], "title": "t"})
    return leave_last_out(build_interactions(events, items))


def _case(history: list[int]) -> EvalCase:
    empty = np.empty(0, dtype=np.int64)
    return EvalCase(0, np.asarray(history), empty, empty, empty, empty)


def test_rank_top_k_masks_history_and_breaks_ties_by_index() -> None:
    model = Fixed(np.array([5.0, 1.0, 1.0, 9.0, 1.0]))
    ranked = rank_top_k(model, [_case([3]), _case([])], n_items=5, k=3, batch_size=1)
    assert ranked.tolist() == [[0, 1, 2], [3, 0, 1]]
    assert rank_top_k(model, [_case([])], n_items=5, k=50).shape == (1, 5)


def test_rank_top_k_checks_the_score_shape_and_values() -> None:
    with pytest.raises(ValueError, match="expected \\(1, 5\\)"):
        rank_top_k(Fixed(np.zeros(4)), [_case([])], n_items=5, k=2)
    with pytest.raises(ValueError, match="NaN"):
        rank_top_k(Fixed(np.full(5, np.nan)), [_case([])], n_items=5, k=2)


def test_evaluate_reports_every_slice_and_metric() -> None:
    split = _split()
    results = evaluate([Oracle(12), Popularity()], split, ks=(1, 5), batch_size=2)
    oracle = results["leave_last_out"]["oracle"]
    assert set(oracle) == {"all", "cold_items", "short_history"}
    assert oracle["all"]["users"] == 6
    assert oracle["all"]["HR@1"] == 1.0 and oracle["all"]["NDCG@5"] == 1.0
    assert oracle["all"]["MRR"] == 1.0
    assert oracle["cold_items"]["users"] == 1  # only u5's target (i5) is never trained on
    assert results["leave_last_out"]["popularity"]["cold_items"]["HR@5"] == 0.0
    assert {"fit_seconds", "score_seconds"} <= set(oracle["all"])
    for name in ("HR", "recall", "precision", "F1", "NDCG", "coverage"):
        assert f"{name}@1" in oracle["all"] and f"{name}@5" in oracle["all"]


def test_evaluate_refuses_duplicate_model_names() -> None:
    with pytest.raises(ValueError, match="unique"):
        evaluate([Popularity(), Popularity()], _split())


def test_format_table_shows_each_protocol_and_slice() -> None:
    split = _split()
    results = evaluate([Oracle(12)], [split, temporal(split.train.log, quantile=0.5)], ks=(1,))
    text = format_table(results)
    assert "leave_last_out / all (6 users)" in text
    assert "temporal / all" in text
    assert "oracle" in text and "1.0000" in text
