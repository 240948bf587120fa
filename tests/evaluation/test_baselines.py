"""Tests for the Popularity, ItemKNN and EASE baselines on tiny matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtrec.evaluation.baselines import (
    EASE,
    ItemKNN,
    Popularity,
    Recommender,
    _mirror_upper,
    history_matrix,
)
from rtrec.evaluation.interactions import build_interactions
from rtrec.evaluation.protocols import EvalCase, TrainData

# Users x items: u0 {0, 1}, u1 {0, 1, 2}, u2 {2, 3}, u3 {0}; item 4 is never used.
BASKETS = [[0, 1], [0, 1, 2], [2, 3], [0]]
N_ITEMS = 5


def _train() -> TrainData:
    rows = [
        (f"u{u}", f"i{i}", "view", str(t)) for u, b in enumerate(BASKETS) for t, i in enumerate(b)
    ]
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "event_type", "timestamp"])
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(N_ITEMS)], "title": "x"})
    log = build_interactions(events, items)
    return TrainData(events=log.events, log=log)


def _case(history: list[int]) -> EvalCase:
    empty = np.empty(0, dtype=np.int64)
    return EvalCase(0, np.asarray(history), empty, empty, empty, empty)


def test_history_matrix_weights_latest_occurrence() -> None:
    matrix = history_matrix([_case([1, 2, 1]), _case([])], N_ITEMS, decay=0.5).toarray()
    assert matrix.tolist() == [[0, 1.0, 0.5, 0, 0], [0, 0, 0, 0, 0]]
    with pytest.raises(ValueError, match="decay"):
        history_matrix([_case([1])], N_ITEMS, decay=0.0)


def test_popularity_counts_distinct_users() -> None:
    model = Popularity()
    model.fit(_train())
    scores = model.score([_case([1]), _case([])])
    assert scores.tolist() == [[3, 2, 2, 1, 0]] * 2


def test_itemknn_sums_cosine_similarities() -> None:
    model = ItemKNN()
    model.fit(_train())
    # Item columns: 0 -> {u0,u1,u3}, 1 -> {u0,u1}, 2 -> {u1,u2}, 3 -> {u2}.
    sim = model.similarity.toarray()
    assert sim[0, 1] == pytest.approx(2 / np.sqrt(6))
    assert sim[2, 3] == pytest.approx(1 / np.sqrt(2))
    assert np.diag(sim).tolist() == [0.0] * N_ITEMS
    scores = model.score([_case([1, 3])])[0]
    assert scores[0] == pytest.approx(2 / np.sqrt(6))
    assert scores[2] == pytest.approx(1 / 2 + 1 / np.sqrt(2))
    assert scores[4] == 0.0


def test_itemknn_last_items_scores_from_the_most_recent_distinct_items() -> None:
    model = ItemKNN(last_items=1, name="itemknn-last1")
    model.fit(_train())
    full = ItemKNN()
    full.fit(_train())
    # History 1, 3, 1: the most recent distinct item is 1 (its repeat), so only 1 counts.
    np.testing.assert_allclose(model.score([_case([1, 3, 1])])[0], full.score([_case([1])])[0])
    np.testing.assert_allclose(model.score([_case([3, 1])])[0], full.score([_case([1])])[0])
    with pytest.raises(ValueError, match="last_items"):
        ItemKNN(last_items=0)


def test_itemknn_keeps_only_the_nearest_neighbours() -> None:
    model = ItemKNN(neighbours=1, block_size=2)  # several blocks
    model.fit(_train())
    sim = model.similarity.toarray()
    assert (np.count_nonzero(sim, axis=1) <= 1).all()
    assert sim[1, 0] == pytest.approx(2 / np.sqrt(6))  # item 1's best neighbour is item 0


def test_ease_matches_the_closed_form() -> None:
    train = _train()
    model = EASE(l2=0.5)
    model.fit(train)
    x = train.interaction_matrix().toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + 0.5 * np.eye(N_ITEMS))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.weights, expected, atol=1e-5)
    np.testing.assert_allclose(model.score([_case([0, 2])])[0], expected[[0, 2]].sum(0), atol=1e-5)


def test_ease_refuses_large_catalogs_before_working() -> None:
    with pytest.raises(ValueError, match="refuses a catalog of 5 items"):
        EASE(max_items=4).fit(_train())


def test_mirror_upper_copies_the_upper_triangle_in_place() -> None:
    a = np.arange(25, dtype=np.float32).reshape(5, 5)
    expected = np.triu(a) + np.triu(a, 1).T
    _mirror_upper(a, block=2)
    np.testing.assert_array_equal(a, expected)


def test_baselines_meet_the_recommender_protocol() -> None:
    for model in (Popularity(), ItemKNN(), EASE()):
        assert isinstance(model, Recommender)
