"""Tower shapes, padding masks, cold items and the order sensitivity of the behaviour tower."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tests.trainer.conftest import LENGTH, toy_examples
from trainer import features as fk
from trainer.interests import max_scores


def _batch(arrays, n=8):
    return {k: tf.constant(v[:n]) for k, v in arrays.items()}


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
    # Garbage under the padding: same mask (ids stay ''), other types and ages.
    changed[fk.HISTORY_EVENT_TYPES] = tf.constant(np.where(padded, "purchase", types))
    changed[fk.HISTORY_AGES_S] = tf.where(padded, 9e6, batch[fk.HISTORY_AGES_S])
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
    batch[fk.USER_KEY] = tf.constant(["", ""])
    vectors = model.user_vectors(batch).numpy()
    assert vectors.shape == (2, model.interest_count, model.vector_dim)
    assert np.all(np.isfinite(vectors)) and np.allclose(vectors[0], vectors[1])
    assert np.linalg.norm(vectors[0, 0]) > 0.5
    np.testing.assert_allclose(vectors[0], np.repeat(vectors[0, :1], model.interest_count, 0))


def test_long_term_interest_is_the_masked_mean_of_the_history(tiny_hp):
    from trainer.towers import UserTower

    assert tiny_hp.visit_pooling  # its weights start at zero: the plain mean

    tower = UserTower(["view"], tiny_hp)
    rng = np.random.default_rng(0)
    vectors = tf.constant(rng.normal(size=(2, LENGTH, tiny_hp.embedding_dim)), tf.float32)
    mask = tf.constant([[False] * (LENGTH - 2) + [True] * 2, [True] * LENGTH])
    args = (
        vectors,
        tf.fill([2, LENGTH], "view"),
        tf.fill([2, LENGTH], 60.0),
        mask,
        tf.zeros([2, 4]),
        tf.constant(["", ""]),
    )
    with_long = tower(*args).numpy()[:, 0]
    kernel = tower.long_term.kernel
    np.testing.assert_allclose(kernel.numpy(), np.eye(tiny_hp.embedding_dim))  # starts as identity
    kernel.assign(tf.zeros_like(kernel))
    without = tower(*args).numpy()[:, 0]
    real = mask.numpy()[..., None]
    mean = (vectors.numpy() * real).sum(1) / real.sum(1)
    np.testing.assert_allclose(with_long - without, mean, atol=1e-5)


def test_gap_buckets_measure_the_time_since_the_previous_step():
    from trainer.towers import gap_buckets

    ages = tf.constant([[9e6, -1.0, 7200.0, 5200.0, 5160.0, 0.0]])  # garbage under padding
    mask = tf.constant([[False, False, True, True, True, True]])
    no_earlier_step = len(fk.RECENCY_BOUNDARIES_S) + 1
    # Gaps 2000 s, 40 s and 5160 s: buckets [900, 3600), [0, 60) and [3600, 10800).
    assert gap_buckets(ages, mask).numpy().tolist() == [[no_earlier_step] * 3 + [3, 0, 4]]


def test_time_gaps_tell_the_step_that_opened_a_visit(tiny_hp):
    from dataclasses import replace

    from trainer.towers import UserTower

    rng = np.random.default_rng(1)
    vectors = tf.constant(rng.normal(size=(2, LENGTH, tiny_hp.embedding_dim)), tf.float32)
    vectors = tf.concat([vectors[:1], vectors[:1]], axis=0)  # the same three items twice
    mask = tf.constant([[False] * (LENGTH - 3) + [True] * 3] * 2)
    pad = [fk.PAD_AGE] * (LENGTH - 3)
    # Same recency bucket for every step ([3600, 10800) twice, then < 60 s); the first user
    # browsed on (300 s between the first two), the second came back after 6300 s.
    ages = tf.constant([pad + [4000.0, 3700.0, 0.0], pad + [10000.0, 3700.0, 0.0]])
    args = (vectors, tf.fill([2, LENGTH], "view"), ages, mask, tf.zeros([2, 4]),
            tf.constant(["", ""]))  # fmt: skip
    with_gaps = UserTower(["view"], tiny_hp)(*args).numpy()
    assert np.abs(with_gaps[0] - with_gaps[1]).max() > 1e-4
    # (Visit interests would tell them apart too: they read the same gaps.)
    without = UserTower(["view"], replace(tiny_hp, time_gaps=False, visit_interests=0))(*args)
    without = without.numpy()
    np.testing.assert_allclose(without[0], without[1], atol=1e-6)


def test_visit_cells_tell_away_opening_and_visits_ago():
    from trainer.towers import VISITS_IN_VIEW, opens_visit, visit_cells

    pad, real = [9e6, -1.0], [False, False]  # garbage under the padding
    # Two visits, the second of three steps; asked 3000 s after it (away) or 10 s (mid-visit).
    away = tf.constant([pad + [90000.0, 89000.0, 5000.0, 4000.0, 3000.0]])
    here = away - 2990.0
    mask = tf.constant([real + [True] * 5])
    v = VISITS_IN_VIEW

    def cell(is_away, opens, ago):
        return (is_away * 2 + opens) * v + ago

    assert visit_cells(away, mask, 1800.0).numpy()[0, 2:].tolist() == [
        cell(1, 1, 1), cell(1, 0, 1), cell(1, 1, 0), cell(1, 0, 0), cell(1, 0, 0)
    ]  # fmt: skip
    assert visit_cells(here, mask, 1800.0).numpy()[0, 2:].tolist() == [
        cell(0, 1, 1), cell(0, 0, 1), cell(0, 1, 0), cell(0, 0, 0), cell(0, 0, 0)
    ]  # fmt: skip
    # The loss's visit_start_weight uses the same rule; an empty history is a first visit.
    empty = tf.fill([1, 7], fk.PAD_AGE)
    assert opens_visit(tf.concat([away, here, empty], 0), 1800.0).numpy().tolist() == [
        True, False, True
    ]  # fmt: skip
    # Eleven visits, one step each: visits further back than VISITS_IN_VIEW share its last cell.
    many = tf.constant([[10_000.0 * (10 - i) for i in range(11)]])
    ago = visit_cells(many, tf.ones([1, 11], tf.bool), 1800.0).numpy()[0] % v
    assert ago.tolist() == [v - 1] * 4 + [6, 5, 4, 3, 2, 1, 0]


def test_visit_pooling_weighs_the_long_term_mean_by_visit_cell(tiny_hp):
    from dataclasses import replace

    from trainer.towers import UserTower, visit_cells

    hp = replace(tiny_hp, interests=1)
    assert hp.visit_pooling  # the default
    tower = UserTower(["view"], hp)
    rng = np.random.default_rng(2)
    vectors = tf.constant(rng.normal(size=(2, LENGTH, hp.embedding_dim)), tf.float32)
    pad = [fk.PAD_AGE] * (LENGTH - 4)
    mask = tf.constant([[False] * (LENGTH - 4) + [True] * 4, [False] * LENGTH])
    ages = tf.constant([pad + [90000.0, 89000.0, 5000.0, 4000.0], pad + [0.0] * 4])
    args = (vectors, tf.fill([2, LENGTH], "view"), ages, mask, tf.zeros([2, 4]),
            tf.constant(["", ""]))  # fmt: skip
    tower(*args)
    log_weights = rng.normal(size=tower.visit_weights.embeddings.shape).astype(np.float32)
    tower.visit_weights.embeddings.assign(log_weights)
    with_pool = tower(*args).numpy()[:, 0]
    tower.long_term.kernel.assign(tf.zeros_like(tower.long_term.kernel))
    without = tower(*args).numpy()[:, 0]
    cells = visit_cells(ages, mask, hp.visit_gap_s).numpy()[0, -4:]
    weights = np.exp(log_weights[cells, 0])
    expected = (vectors.numpy()[0, -4:] * weights[:, None]).sum(0) / weights.sum()
    np.testing.assert_allclose(with_pool[0] - without[0], expected, atol=1e-5)
    np.testing.assert_allclose(with_pool[1], without[1], atol=1e-6)  # no history, no pooling
    assert not np.allclose(expected, vectors.numpy()[0, -4:].mean(0), atol=1e-3)


def test_visit_openers_are_each_recent_visits_first_item():
    from trainer.towers import visit_openers

    vectors = tf.constant(np.eye(5, 5, dtype=np.float32)[None].repeat(2, 0))  # step i -> e_i
    # Row 0: visits open at steps 0, 2 and 4 (gaps >= 150 s); row 1: two padded steps, then
    # visits at steps 2 and 3 (step 4 continues the latter), so the third slot is empty.
    ages = tf.constant([[900.0, 800.0, 300.0, 200.0, 50.0], [9e6, -1.0, 500.0, 100.0, 20.0]])
    mask = tf.constant([[True] * 5, [False, False, True, True, True]])
    openers, present = visit_openers(vectors, ages, mask, 150.0, 3)
    assert openers.numpy().argmax(-1).tolist() == [[4, 2, 0], [3, 2, 0]]
    assert present.numpy().tolist() == [[True, True, True], [True, True, False]]
    assert np.all(openers.numpy()[1, 2] == 0)


def test_visit_interests_are_scaled_openers_or_the_main_vector(toy_catalog, tiny_hp):
    from dataclasses import replace

    from trainer.model import RtrecModel

    hp = replace(tiny_hp, interests=1, visit_interests=2, history_blend=0.0)
    model = RtrecModel(toy_catalog, toy_catalog.ids, ["click", "view"], hp)
    assert model.interest_count == 3
    batch = _batch(toy_examples(4, seed=21), n=4)
    batch[fk.HISTORY_AGES_S] = tf.where(batch[fk.HISTORY_AGES_S] >= 0, 1e6, fk.PAD_AGE)
    batch[fk.HISTORY_ITEM_IDS] = tf.concat(  # the last example has no history
        [batch[fk.HISTORY_ITEM_IDS][:3], tf.fill([1, LENGTH], "")], axis=0
    )
    users = model.user_vectors(batch).numpy()
    assert users.shape == (4, 3, model.vector_dim)
    # Equal ages: one visit, opened by the first real step; slot 1 falls back to the main vector.
    dim = hp.embedding_dim  # then the bias column and the affinity columns
    norms = np.linalg.norm(users[..., :dim], axis=-1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)  # scales start at 1
    np.testing.assert_allclose(users[:, 2], users[:, 0], atol=1e-6)
    first = np.argmax(batch[fk.HISTORY_ITEM_IDS].numpy() != b"", axis=1)[:3]
    opener = model.item_tower(tf.gather(batch[fk.HISTORY_ITEM_IDS][:3], first, batch_dims=1))
    expected = tf.math.l2_normalize(model.user_tower.visit_projection(opener), -1).numpy()
    np.testing.assert_allclose(users[:3, 1, :dim], expected, atol=1e-5)
    np.testing.assert_allclose(users[3, 1], users[3, 0], atol=1e-6)  # no history: main only
    # The learned scale of the latest visit (away: ages of 1e6 s) stretches that row only.
    scales = np.zeros(model.user_tower.visit_scale.embeddings.shape, np.float32)
    scales[hp.visit_interests] = np.log(0.5)
    model.user_tower.visit_scale.embeddings.assign(scales)
    scaled = np.linalg.norm(model.user_vectors(batch).numpy()[..., :dim], axis=-1)
    np.testing.assert_allclose(scaled[:3, 1], 0.5, atol=1e-5)
    np.testing.assert_allclose(scaled[3], 1.0, atol=1e-5)  # a fallback copy is not scaled
    np.testing.assert_allclose(scaled[:, ::2], 1.0, atol=1e-5)


def test_item_bias_is_one_served_column_and_zero_for_unknown_items(trained, toy_catalog):
    model, _ = trained
    known, cold = toy_catalog.ids[0], toy_catalog.ids[-1]  # cold: in the catalog, never trained
    ids = tf.constant([known, cold, "never-seen"])
    vectors = model.item_vectors(ids).numpy()
    dim = model.hp.embedding_dim  # the bias column follows; then the affinity columns
    widths = sum(layer.width for layer in model.affinities)
    assert vectors.shape == (3, model.vector_dim) == (3, dim + 1 + widths)
    bias = model.item_tower.bias(ids).numpy()
    np.testing.assert_allclose(vectors[:, dim], bias)
    assert bias[0] != 0.0 and bias[1] == 0.0 and bias[2] == 0.0  # trained vs cold/unknown
    np.testing.assert_allclose(np.linalg.norm(vectors[:, :dim], axis=1)[:2], 1.0, atol=1e-5)
    users = model.user_vectors(_batch(toy_examples(4, seed=16), n=4)).numpy()
    np.testing.assert_allclose(users[..., dim], model.hp.temperature)


def test_history_blend_adds_the_cosine_to_the_history_mean_except_for_search(trained):
    model, _ = trained
    weight = model.hp.history_blend
    assert weight > 0
    batch = _batch(toy_examples(6, seed=17), n=6)
    catalog = model.catalog_vectors()
    blended = max_scores(model.user_vectors(batch), catalog).numpy()
    plain = max_scores(model.user_vectors(batch, blend=False), catalog).numpy()
    ids = batch[fk.HISTORY_ITEM_IDS].numpy().astype(str)
    items = model.item_vectors(tf.constant(ids)).numpy()[..., : model.hp.embedding_dim]
    mean = (items * (ids != "")[..., None]).sum(axis=1)
    mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    cosine = mean @ catalog.numpy()[:, : model.hp.embedding_dim].T
    np.testing.assert_allclose(blended - plain, weight * cosine, atol=1e-4)
    query = tf.ones([6, model.catalog.text_dim])
    searched = model.user_vectors(batch, query_vectors=query).numpy()
    unblended = model.user_vectors(batch, query_vectors=query, blend=False).numpy()
    np.testing.assert_allclose(searched, unblended, atol=1e-6)
