"""Category affinity: columns, catalog membership, the in-graph category cells, user shares."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.tiny_model import BRANDS
from trainer import affinity as a
from trainer.visits import VISITS_IN_VIEW, visit_cells

GAP = 1800.0


def test_columns_rank_by_frequency_and_membership_marks_uncategorised():
    categories = [("B", "A"), ("A",), (), ("C", "A"), ("B",)]
    columns = a.category_columns(categories)
    assert columns == [a.NO_CATEGORY, "A", "B", "C"]
    rows = a.membership(categories, columns)
    expected = [[0, 1, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0]]
    np.testing.assert_array_equal(rows, expected)  # last row: unknown items


def test_rare_categories_beyond_the_cap_count_as_uncategorised(monkeypatch):
    monkeypatch.setattr(a, "MAX_CATEGORY_COLUMNS", 3)
    categories = [("A",), ("A",), ("B",), ("B",), ("C",)]
    columns = a.category_columns(categories)
    assert columns == [a.NO_CATEGORY, "A", "B"]
    assert a.membership(categories, columns)[4].tolist() == [1, 0, 0]


@pytest.fixture(scope="module")
def layer() -> a.CategoryAffinity:
    return a.CategoryAffinity([("Home", "lamp"), ("Home", "kettle"), ("Leisure", "tent"), ()],
                              temperature=0.05)  # fmt: skip


def test_category_cells_give_the_catalog_rows_columns(layer):
    catalog = layer.item_columns(tf.constant([0, 1, 2, 3, -1])).numpy()
    cells = layer.columns_for_names(
        tf.constant(["Home|lamp", " kettle |Home", "Leisure|tent", "", "Nowhere"])
    ).numpy()
    np.testing.assert_allclose(cells, catalog)
    np.testing.assert_allclose(catalog.sum(axis=1), 1.0)
    np.testing.assert_allclose(cells[4], np.eye(layer.width)[0])  # unknown names: uncategorised
    mixed = layer.columns_for_names(tf.constant(["tent|Nowhere"])).numpy()[0]
    assert mixed[layer.columns.index("tent")] == 1.0


def test_user_columns_are_log_shares_of_weighted_history(layer):
    # Two visits: the older one opened with a lamp (row 0) then a kettle (row 1); the latest,
    # two hours later, opened with a tent (row 2); one padding step (row -1, age -1).
    rows = tf.constant([[-1, 0, 1, 2]])
    ages = tf.constant([[-1.0, 9000.0, 8900.0, 600.0]])
    mask = tf.constant([[False, True, True, True]])
    got = layer.user_columns(rows, visit_cells(ages, mask, GAP), mask).numpy()[0]
    # Initial weights: the latest opener 1, the older opener 0.7, a step after it 0.07.
    weights = {"lamp": 0.7, "kettle": a.BROWSE_WEIGHT * a.VISIT_DECAY, "tent": 1.0}
    total = sum(weights.values())
    share = {name: 0.0 for name in layer.columns}
    share.update({name: w / total for name, w in weights.items()})
    share["Home"] = (weights["lamp"] + weights["kettle"]) / total
    share["Leisure"] = weights["tent"] / total
    expected = [0.05 * np.log(share[name] + np.exp(-3.0)) for name in layer.columns]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    none = tf.zeros([1, 4], tf.bool)
    cells = visit_cells(-tf.ones([1, 4]), none, GAP)
    empty = layer.user_columns(tf.constant([[-1, -1, -1, -1]]), cells, none).numpy()[0]
    np.testing.assert_allclose(empty, 0.05 * -3.0, rtol=1e-5)  # no history: no preference


def test_initial_step_weights_follow_openers_and_decay():
    weights = np.exp(a._initial_log_weights()[:, 0])
    assert weights.shape == (4 * VISITS_IN_VIEW,)
    np.testing.assert_allclose(weights[VISITS_IN_VIEW : VISITS_IN_VIEW + 2], [1.0, 0.7])
    np.testing.assert_allclose(weights[:2], [0.1, 0.07])


def test_word_columns_keep_words_neither_rare_nor_everywhere(monkeypatch):
    monkeypatch.setattr(a, "WORD_MAX_SHARE", 0.5)
    texts = ["Lumio Phone, red", "lumio case", "LUMIO-cable red", "Kestrel phone", "kestrel red",
             "Kestrel case", "phone phone stand", "red"]  # fmt: skip
    # lumio 3, kestrel 3, phone 3, red 4 (= 0.5 x 8), case 2 (rare), stand 1, cable 1
    assert a.word_columns(texts) == ["red", "kestrel", "lumio", "phone"]


@pytest.fixture(scope="module")
def words() -> a.WordAffinity:
    texts = ["Lumio phone", "lumio case", "Lumio cable", "Kestrel phone", "kestrel tent",
             "Kestrel lamp", "tent", "lamp", "cable", "case"]  # fmt: skip
    fillers = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]
    return a.WordAffinity(texts + fillers, temperature=0.05)


def test_word_columns_of_catalog_rows_and_new_texts_agree(words):
    assert words.columns == ["kestrel", "lumio"]  # every other word is used by 1-2 items
    catalog = words.item_columns(tf.constant([0, 3, 6, -1])).numpy()
    np.testing.assert_array_equal(catalog, [[0, 1], [1, 0], [0, 0], [0, 0]])
    new = words.columns_for_texts(tf.constant(["LUMIO, by Kestrel!", "nothing known", ""]))
    np.testing.assert_array_equal(new.numpy(), [[1, 1], [0, 0], [0, 0]])


def test_user_word_columns_are_strength_times_log1p_share(words):
    words.strength.assign([2.0, -1.0])
    rows = tf.constant([[0, 1, 3]])  # lumio, lumio, kestrel; one visit, opened by the first
    ages = tf.constant([[300.0, 200.0, 100.0]])
    mask = tf.ones([1, 3], tf.bool)
    weights = np.array([1.0, a.BROWSE_WEIGHT, a.BROWSE_WEIGHT])
    share = np.array([weights[2], weights[0] + weights[1]]) / weights.sum()
    expected = 0.05 * np.array([2.0, -1.0]) * np.log1p(share / np.exp(-3.0))
    got = words.user_columns(rows, visit_cells(ages, mask, GAP), mask).numpy()[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def _served_features(history):
    return {
        "history_item_ids": history,
        "history_event_types": tf.where(history == "", "", "view"),
        "history_ages_s": tf.constant([[-1.0, -1.0, 900.0, 600.0, 60.0]]),
        "query": tf.constant([""]),
        "user_key": tf.constant([""]),
    }


def test_served_score_adds_the_affinity_terms(trained):
    model, _ = trained
    category, word = model.affinities
    assert isinstance(category, a.CategoryAffinity) and isinstance(word, a.WordAffinity)
    history = tf.constant([["", "", "lamp-1", "lamp-2", "kettle-3"]])
    features = _served_features(history)
    users = model.user_vectors(features)
    ids = tf.constant(["lamp-5", "tent-5", "lamp-6"])
    items = model.item_vectors(ids)
    dim = model.hp.embedding_dim
    tower = tf.linalg.matvec(items[:, :dim], users[0, :dim])
    full = tf.linalg.matvec(items, users[0])
    rows = model.catalog_rows.lookup(history)
    extra, columns_of = {}, {}
    for layer, key in zip(model.affinities, ("category", "word")):
        cells = visit_cells(features["history_ages_s"], history != "", model.session_gap_s)
        columns = layer.user_columns(rows, cells, history != "")
        columns_of[key] = columns.numpy()[0]
        item_rows = layer.item_columns(model.catalog_rows.lookup(ids))
        extra[layer.name] = tf.linalg.matvec(item_rows, columns[0]).numpy()
    total = sum(extra.values())
    np.testing.assert_allclose(full - tower, total, atol=1e-5)
    query = tf.ones([1, model.catalog.text_dim])
    searched = model.user_vectors(features, query_vectors=query).numpy()[0, dim:]
    np.testing.assert_array_equal(searched, 0.0)  # a search follows its query, not the mix
    home = extra[category.name]
    assert home[0] > home[1], "a Home user's category affinity favours a Home item over a tent"
    # Type words are in 25% of the toy items, "model" in all: only the brand words get columns.
    assert sorted(word.columns) == sorted(BRANDS)
    assert np.any(word.strength.numpy() != 0), "training moves word strengths"
    brand = extra[word.name]
    assert brand[1] == 0.0, "tent-5's brand (acme) is not in the history"
    zenith = word.columns.index("zenith")  # lamp-1's and lamp-6's brand
    np.testing.assert_allclose(brand[2], columns_of["word"][zenith], rtol=1e-5)
