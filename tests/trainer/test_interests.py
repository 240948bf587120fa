"""Multi-interest users: pooling masks, fallbacks, and the exact merge of per-interest results."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from tests.trainer.conftest import LENGTH, toy_examples
from trainer import features as fk
from trainer.interests import InterestExtractor, best_interest, max_scores, merge_interest_results
from trainer.ranking import exclude_and_top_k


def test_extractor_pools_only_real_steps():
    extractor = InterestExtractor(count=2, dim=4)
    rng = np.random.default_rng(0)
    states = tf.constant(rng.normal(size=(1, 5, 4)), tf.float32)
    items = rng.normal(size=(1, 5, 4)).astype(np.float32)
    mask = tf.constant([[False, False, True, True, True]])
    out = extractor(states, tf.constant(items), mask).numpy()
    assert out.shape == (1, 2, 4)
    garbage = items.copy()
    garbage[:, :2] = 1e3  # under the padding
    np.testing.assert_allclose(extractor(states, tf.constant(garbage), mask), out, atol=1e-5)
    # Identity projection at start: each interest is a convex mix of the real item vectors.
    weights = np.linalg.lstsq(items[0, 2:].T, out[0].T, rcond=None)[0]
    np.testing.assert_allclose(weights.sum(axis=0), 1.0, atol=1e-4)
    assert np.all(weights > -1e-4)


def test_interests_differ_with_a_history_and_collapse_with_a_query(trained):
    model, _ = trained
    count = model.interest_count
    assert model.hp.interests == 3 and count == 3 + model.hp.visit_interests
    batch = {k: tf.constant(v[:6]) for k, v in toy_examples(6, seed=21).items()}
    users = model.user_vectors(batch).numpy()
    assert users.shape == (6, count, model.vector_dim)
    assert np.abs(users[:, 1:] - users[:, :1]).max() > 1e-3
    with_query = dict(batch, **{fk.QUERY: tf.constant(["tent"] * 6)})
    vectors = model.query_lookup.table.numpy()
    query = np.repeat(vectors[-1:] + 1.0, 6, axis=0)  # any non-zero query vector
    users = model.user_vectors(with_query, query_vectors=tf.constant(query)).numpy()
    np.testing.assert_allclose(users, np.repeat(users[:, :1], count, axis=1), atol=1e-6)


def test_max_scores_and_label_aware_selection():
    users = tf.constant([[[1.0, 0.0], [0.0, 1.0]]])
    items = tf.constant([[2.0, 1.0], [1.0, 3.0], [-1.0, -1.0]])
    np.testing.assert_allclose(max_scores(users, items), [[2.0, 3.0, -1.0]])
    per_user = tf.stack([items[::-1]])  # [batch, n, d]: candidates of this user only
    np.testing.assert_allclose(max_scores(users, per_user), [[-1.0, 3.0, 2.0]])
    np.testing.assert_allclose(best_interest(users, items[1:2]), [[0.0, 1.0]])


def test_merged_index_results_are_the_exact_top_k_of_the_best_interest():
    rng = np.random.default_rng(1)
    n, dim, interests, batch, k, depth = 60, 8, 3, 5, 10, 20
    catalog = rng.normal(size=(n, dim)).astype(np.float32)
    ids = tf.constant([f"item{i}" for i in range(n)])
    rows = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(ids, tf.range(n, dtype=tf.int64)), -1
    )
    users = rng.normal(size=(batch, interests, dim)).astype(np.float32)
    users[:, 1] = users[:, 0] + 0.05 * rng.normal(size=(batch, dim))  # overlapping interests
    index = tfrs.layers.factorized_top_k.BruteForce(k=depth)
    index.index(tf.constant(catalog), ids)
    scores, found = index(tf.constant(users.reshape(-1, dim)))
    merged_ids, merged_scores = merge_interest_results(
        tf.reshape(found, [batch, -1]), tf.reshape(scores, [batch, -1]), rows
    )
    exclude = tf.constant([[f"item{i}", ""] for i in range(batch)])
    top_ids, top_scores = exclude_and_top_k(merged_ids, merged_scores, exclude, k)
    expected = (users @ catalog.T).max(axis=1)
    for b in range(batch):
        expected[b, b] = -np.inf
        order = np.argsort(-expected[b])[:k]
        assert list(top_ids[b].numpy().astype(str)) == [f"item{i}" for i in order]
        np.testing.assert_allclose(top_scores[b], expected[b, order], rtol=1e-5)
    assert all(len(set(row)) == k for row in top_ids.numpy().tolist())


def test_user_tower_output_width_follows_the_interest_count(tiny_hp):
    from dataclasses import replace

    from trainer.towers import UserTower

    for count in (1, 4):
        tower = UserTower(["view"], replace(tiny_hp, interests=count))
        out = tower(
            tf.zeros([2, LENGTH, tiny_hp.embedding_dim]) + 0.1,
            tf.fill([2, LENGTH], "view"),
            tf.fill([2, LENGTH], 60.0),
            tf.ones([2, LENGTH], tf.bool),
            tf.zeros([2, 4]),
            tf.constant(["", ""]),
        )
        assert out.shape == (2, count + tiny_hp.visit_interests, tiny_hp.embedding_dim)
