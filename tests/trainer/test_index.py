"""The serving index gives the dense dot product's ranking from a dense tower part and sparse
affinity columns, and excludes before the top-k."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from trainer.index import CatalogIndex


def _vectors(n: int = 300, dense: int = 8, sparse: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tail = np.zeros((n, sparse), np.float32)
    for i in range(n):  # a category (mean row) and a few words (0/1), as affinity columns are
        tail[i, rng.integers(0, 5)] = 1.0
        tail[i, 5 + rng.choice(sparse - 5, 3, replace=False)] = 1.0
    return np.concatenate([rng.normal(size=(n, dense)).astype(np.float32), tail], axis=1)


def test_scores_are_the_dense_dot_product_and_the_tail_is_stored_sparse():
    vectors = _vectors()
    index = CatalogIndex(vectors, np.array([f"i{j}" for j in range(300)]), dense_width=8)
    assert index.dense.shape == (300, 8) and index.sparse_values.shape == (300 * 4,)
    users = np.random.default_rng(1).normal(size=(3, 48)).astype(np.float32)
    np.testing.assert_allclose(index.scores(tf.constant(users)).numpy(), users @ vectors.T,
                               rtol=1e-5, atol=1e-5)  # fmt: skip


def test_columns_that_are_not_sparse_stay_dense():
    vectors = np.random.default_rng(2).normal(size=(50, 12)).astype(np.float32)
    index = CatalogIndex(vectors, np.array([f"i{j}" for j in range(50)]), dense_width=4)
    assert index.dense.shape == (50, 12) and index.sparse_values.shape == (0,)
    users = tf.constant(vectors[:2])
    np.testing.assert_allclose(index.scores(users).numpy(), vectors[:2] @ vectors.T, atol=1e-4)


@pytest.mark.parametrize("k", [1, 5, 299])
def test_top_k_leaves_out_the_excluded_rows_and_returns_exactly_k(k):
    vectors = _vectors()
    ids = np.array([f"i{j}" for j in range(300)])
    index = CatalogIndex(vectors, ids, dense_width=8)
    users = np.random.default_rng(3).normal(size=(2, 48)).astype(np.float32)
    scores = users @ vectors.T
    exclude = np.array([list(np.argsort(-scores[0])[:3]) + [-1], [-1, -1, -1, -1]])
    top_ids, top_scores = index.top_k(tf.constant(users), tf.constant(exclude), tf.constant(k))
    for row in range(2):
        keep = [j for j in np.argsort(-scores[row], kind="stable") if j not in exclude[row]]
        shown = min(k, len(keep))
        assert [x.decode() for x in top_ids.numpy()[row][:shown]] == list(ids[keep][:shown])
        np.testing.assert_allclose(top_scores.numpy()[row][:shown], scores[row][keep][:shown],
                                   rtol=1e-5, atol=1e-5)  # fmt: skip
        assert np.all(np.isneginf(top_scores.numpy()[row][shown:]))  # fewer than k left
    assert top_ids.shape == (2, k)
