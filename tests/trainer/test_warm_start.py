"""Warm start from a trained model: known items keep their vectors, new items get rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from tests.tiny_model import GAP_S, toy_examples
from trainer.catalog import Catalog
from trainer.data import array_dataset
from trainer.model import RtrecModel
from trainer.train import fit
from trainer.warm_start import save_warm_start, warm_start


def _built(model: RtrecModel) -> RtrecModel:
    """Create every weight (Keras builds layers on their first call)."""
    batch = {k: tf.constant(v) for k, v in toy_examples(4, seed=40).items()}
    model.compute_loss(batch)
    return model


@pytest.fixture(scope="module")
def saved(trained, tmp_path_factory):
    model, _ = trained
    serving_dir = str(tmp_path_factory.mktemp("model") / "Format-Serving")
    save_warm_start(model, serving_dir)
    return model, serving_dir


def _grown(catalog: Catalog, encoder) -> tuple[Catalog, list[str]]:
    """The catalog plus two new items; the vocabulary loses one item and gains the new ones."""
    new_ids, new_texts = ["lamp-new-1", "tent-new-2"], ["acme lamp model 99", "orbit tent model 98"]
    content = np.concatenate([catalog.content, encoder(np.array(new_texts)).numpy()])
    grown = Catalog(
        catalog.ids + new_ids, catalog.titles + new_texts, catalog.texts + new_texts,
        np.concatenate([catalog.train_counts, [3, 3]]), content,
        list(catalog.categories) + [("Home", "lamp"), ("Leisure", "tent")],
    )  # fmt: skip
    vocab = [i for i in catalog.ids[:-2] if i != "kettle-3"] + new_ids
    return grown, vocab


def test_known_items_keep_their_vectors_and_new_items_get_rows(
    saved, toy_catalog, tiny_hp, encoder
):
    old, serving_dir = saved
    catalog, vocab = _grown(toy_catalog, encoder)
    new = _built(RtrecModel(catalog, vocab, ["click", "view"], tiny_hp, GAP_S))
    fresh_rows = new.item_tower.id_embedding.embeddings.numpy().copy()
    report = warm_start(new, serving_dir)
    known = [i for i in toy_catalog.ids[:-2] if i != "kettle-3"]
    dim = tiny_hp.embedding_dim  # the tower part; affinity columns follow
    np.testing.assert_allclose(
        new.item_vectors(tf.constant(known)).numpy()[:, :dim],
        old.item_vectors(tf.constant(known)).numpy()[:, :dim],
        atol=1e-5,
    )
    (old_words, new_words) = (m.affinities[1] for m in (old, new))
    for word in set(old_words.columns) & set(new_words.columns):  # strengths follow their word
        assert new_words.strength.numpy()[new_words.columns.index(word)] == pytest.approx(
            old_words.strength.numpy()[old_words.columns.index(word)]
        )
    assert report["rows_kept"] >= len(known) and report["copied"] > 10
    rows = new.item_tower.id_table.lookup(tf.constant(["lamp-new-1", "tent-new-2"])).numpy()
    np.testing.assert_array_equal(new.item_tower.id_embedding.embeddings.numpy()[rows],
                                  fresh_rows[rows])  # fmt: skip
    # The new items are served by their text and the warm towers: finite, retrievable vectors.
    assert np.all(np.isfinite(new.item_vectors(tf.constant(["lamp-new-1"])).numpy()))


def test_a_warm_model_starts_where_the_old_one_ended(saved, toy_catalog, tiny_hp):
    _, serving_dir = saved
    hp = replace(tiny_hp, epochs=1)
    arrays = toy_examples(512, seed=41)
    losses = {}
    for name in ("cold", "warm"):
        model = _built(RtrecModel(toy_catalog, toy_catalog.ids[:-2], ["click", "view"], hp, GAP_S))
        if name == "warm":
            warm_start(model, serving_dir)
        losses[name] = fit(model, array_dataset(arrays, 64, True), None, hp)["loss"][0]
    assert losses["warm"] < 0.8 * losses["cold"], losses


def test_another_architecture_is_refused(saved, toy_catalog, tiny_hp):
    _, serving_dir = saved
    hp = replace(tiny_hp, num_blocks=1)
    model = _built(RtrecModel(toy_catalog, toy_catalog.ids[:-2], ["click", "view"], hp, GAP_S))
    with pytest.raises(ValueError, match="architecture changed"):
        warm_start(model, serving_dir)
    with pytest.raises(FileNotFoundError, match="train from scratch"):
        warm_start(model, str(serving_dir) + "-missing/Format-Serving")
