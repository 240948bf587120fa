"""Tower shapes, padding masks, cold items, the long-term mean and the order sensitivity."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rtrec import features as fk
from tests.tiny_model import GAP_S, LENGTH, toy_examples
from trainer.towers import UserTower
from trainer.visits import visit_cells


def _batch(arrays, n=8):
    return {k: tf.constant(v[:n]) for k, v in arrays.items()}


def _user_tower(hp, **overrides) -> UserTower:
    args = dict(
        embedding_dim=hp.embedding_dim, history_length=LENGTH, num_blocks=hp.num_blocks,
        num_heads=hp.num_heads, dropout=0.0, long_term=True, visit_pooling=True,
        user_id_buckets=None, user_id_dropout=0.0,
    )  # fmt: skip
    return UserTower(["view"], **{**args, **overrides})


def _tower_inputs(vectors, ages, mask, text_dim=4):
    ids = tf.where(mask, "x", fk.PAD_ITEM)
    features = {
        fk.USER_KEY: tf.fill([vectors.shape[0]], ""),
        fk.HISTORY_ITEM_IDS: ids,
        fk.HISTORY_EVENT_TYPES: tf.fill(ids.shape, "view"),
        fk.HISTORY_AGES_S: ages,
        fk.QUERY_VECTOR: tf.zeros([vectors.shape[0], text_dim]),
    }
    return features, vectors, visit_cells(ages, mask, GAP_S)


def test_item_tower_shapes_and_cold_item_is_content_only(trained, toy_catalog):
    model, _ = trained
    ids = tf.constant([[toy_catalog.ids[0], toy_catalog.ids[-1]], ["", "never-seen"]])
    vectors = model.item_tower(ids)
    assert vectors.shape == (2, 2, model.hp.embedding_dim)
    cold = toy_catalog.ids[-1]  # in the catalog, not in the id vocabulary
    id_part = model.item_tower.id_part(tf.constant([cold]))
    assert np.all(id_part.numpy() == 0)
    text_only = model.item_tower.text_part(tf.constant(toy_catalog.content[-1:]))
    np.testing.assert_allclose(model.item_tower(tf.constant([cold])), text_only, atol=1e-6)
    assert np.all(np.isfinite(model.item_vectors(tf.constant([cold, "never-seen"])).numpy()))


def test_padding_is_masked(trained):
    model, _ = trained
    batch = _batch(toy_examples(8, seed=3))
    base = model.user_vectors(batch).numpy()
    ids = batch[fk.HISTORY_ITEM_IDS].numpy().astype(str)
    types = batch[fk.HISTORY_EVENT_TYPES].numpy().astype(str)
    padded = ids == ""
    changed = dict(batch)
    # Garbage under the padding: same mask (ids stay ''), other types.
    changed[fk.HISTORY_EVENT_TYPES] = tf.constant(np.where(padded, "purchase", types))
    np.testing.assert_allclose(model.user_vectors(changed).numpy(), base, atol=1e-5)


def test_history_order_matters(trained):
    model, _ = trained
    arrays = toy_examples(64, seed=4)
    full = arrays[fk.HISTORY_LENGTH] == LENGTH
    batch = _batch({k: v[full] for k, v in arrays.items()})
    reversed_batch = dict(batch)
    reversed_batch[fk.HISTORY_ITEM_IDS] = tf.reverse(batch[fk.HISTORY_ITEM_IDS], axis=[1])
    before = model.user_vectors(batch).numpy()
    after = model.user_vectors(reversed_batch).numpy()
    assert np.abs(before - after).max() > 1e-3


def test_empty_history_gives_a_finite_fallback_vector(trained):
    model, _ = trained
    batch = _batch(toy_examples(2, seed=5), n=2)
    batch[fk.HISTORY_ITEM_IDS] = tf.fill([2, LENGTH], "")
    batch[fk.HISTORY_AGES_S] = tf.fill([2, LENGTH], fk.PAD_AGE)
    batch[fk.USER_KEY] = tf.constant(["", ""])
    vectors = model.user_vectors(batch).numpy()
    assert vectors.shape == (2, model.vector_dim)
    assert np.all(np.isfinite(vectors)) and np.allclose(vectors[0], vectors[1])
    assert np.linalg.norm(vectors[0, : model.hp.embedding_dim]) > 0.5


def test_long_term_interest_is_the_masked_mean_of_the_history(tiny_hp):
    tower = _user_tower(tiny_hp)  # visit pooling's weights start at zero: the plain mean
    rng = np.random.default_rng(0)
    vectors = tf.constant(rng.normal(size=(2, LENGTH, tiny_hp.embedding_dim)), tf.float32)
    mask = tf.constant([[False] * (LENGTH - 2) + [True] * 2, [True] * LENGTH])
    args = _tower_inputs(vectors, tf.where(mask, 60.0, fk.PAD_AGE), mask)
    with_long = tower(*args).numpy()
    kernel = tower.long_term.kernel
    np.testing.assert_allclose(kernel.numpy(), np.eye(tiny_hp.embedding_dim))  # starts as identity
    kernel.assign(tf.zeros_like(kernel))
    without = tower(*args).numpy()
    real = mask.numpy()[..., None]
    mean = (vectors.numpy() * real).sum(1) / real.sum(1)
    np.testing.assert_allclose(with_long - without, mean, atol=1e-5)


def test_visit_pooling_weighs_the_long_term_mean_by_visit_cell(tiny_hp):
    tower = _user_tower(tiny_hp)
    rng = np.random.default_rng(2)
    vectors = tf.constant(rng.normal(size=(2, LENGTH, tiny_hp.embedding_dim)), tf.float32)
    pad = [fk.PAD_AGE] * (LENGTH - 4)
    mask = tf.constant([[False] * (LENGTH - 4) + [True] * 4, [False] * LENGTH])
    ages = tf.constant([pad + [90000.0, 89000.0, 5000.0, 4000.0], [fk.PAD_AGE] * LENGTH])
    args = _tower_inputs(vectors, ages, mask)
    tower(*args)
    log_weights = rng.normal(size=tower.visit_weights.embeddings.shape).astype(np.float32)
    tower.visit_weights.embeddings.assign(log_weights)
    with_pool = tower(*args).numpy()
    tower.long_term.kernel.assign(tf.zeros_like(tower.long_term.kernel))
    without = tower(*args).numpy()
    cells = visit_cells(ages, mask, GAP_S).numpy()[0, -4:]
    weights = np.exp(log_weights[cells, 0])
    expected = (vectors.numpy()[0, -4:] * weights[:, None]).sum(0) / weights.sum()
    np.testing.assert_allclose(with_pool[0] - without[0], expected, atol=1e-5)
    np.testing.assert_allclose(with_pool[1], without[1], atol=1e-6)  # no history, no pooling
    assert not np.allclose(expected, vectors.numpy()[0, -4:].mean(0), atol=1e-3)


def test_served_vectors_are_the_unit_tower_part_then_the_affinity_columns(trained, toy_catalog):
    model, _ = trained
    known, cold = toy_catalog.ids[0], toy_catalog.ids[-1]  # cold: in the catalog, never trained
    ids = tf.constant([known, cold, "never-seen"])
    vectors = model.item_vectors(ids).numpy()
    dim = model.hp.embedding_dim
    widths = sum(layer.width for layer in model.affinities)
    assert vectors.shape == (3, model.vector_dim) == (3, dim + widths)
    np.testing.assert_allclose(np.linalg.norm(vectors[:, :dim], axis=1), 1.0, atol=1e-5)
    users = model.user_vectors(_batch(toy_examples(4, seed=16), n=4)).numpy()
    assert users.shape == (4, model.vector_dim)
    np.testing.assert_allclose(np.linalg.norm(users[:, :dim], axis=1), 1.0, atol=1e-5)


def test_a_search_query_moves_the_user_vector(trained):
    model, _ = trained
    batch = _batch(toy_examples(4, seed=18), n=4)
    plain = model.user_vectors(batch).numpy()
    query = tf.ones([4, model.catalog.text_dim])
    searched = model.user_vectors(batch, query_vectors=query).numpy()
    assert np.abs(plain - searched).max() > 1e-3
