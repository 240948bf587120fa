"""content_tuning='top_layers': the cache reproduces BERT, only the top layers train, and the
tuned text path is what the index and the exported signatures use."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tests.tiny_model import GAP_S, toy_examples
from trainer.bert import BertTextEncoder, EncoderSpec
from trainer.catalog import Catalog
from trainer.content_tuning import TopLayerCache
from trainer.data import array_dataset
from trainer.model import RtrecModel
from trainer.params import content_parameter_counts
from trainer.signatures import export
from trainer.train import fit

QUERIES = ["tent", "novel model 3"]


def _fresh_encoder() -> BertTextEncoder:
    """Not the session fixture: tuning changes the encoder's weights in place."""
    return BertTextEncoder(EncoderSpec("tiny", max_tokens=16))


@pytest.mark.parametrize("n_layers", [1, 2])
def test_cache_reproduces_the_full_encoder(toy_catalog, n_layers):
    encoder = _fresh_encoder()
    cache = TopLayerCache(encoder, toy_catalog.texts, n_layers)
    vectors = cache.all_vectors()
    np.testing.assert_allclose(vectors[:-1], encoder(np.array(toy_catalog.texts)), atol=1e-5)
    assert not np.any(vectors[-1])  # the padding row (unknown items) encodes to zero
    with pytest.raises(ValueError, match="layers"):
        TopLayerCache(encoder, toy_catalog.texts, 3)


@pytest.fixture(scope="module")
def tuned(toy_catalog, tiny_hp, tmp_path_factory):
    encoder = _fresh_encoder()
    catalog = Catalog(
        toy_catalog.ids, toy_catalog.titles, toy_catalog.texts, toy_catalog.train_counts,
        np.zeros_like(toy_catalog.content),  # top_layers computes its own starting vectors
    )  # fmt: skip
    hp = replace(tiny_hp, content_tuning="top_layers", top_layers=1, epochs=2)
    layers = encoder.transformer_layers
    before = {
        "top": [w.numpy().copy() for w in layers[-1].weights],
        "bottom": [w.numpy().copy() for w in layers[0].weights],
        "embeddings": [w.numpy().copy() for w in encoder.bert.bert.embeddings.weights],
    }
    model = RtrecModel(
        catalog, catalog.ids, ["view"], hp, GAP_S, QUERIES, np.zeros((2, catalog.text_dim)), encoder
    )
    arrays = toy_examples(512, seed=21)
    report = fit(model, array_dataset(arrays, hp.batch_size, True), arrays, hp)
    path = str(tmp_path_factory.mktemp("tuned") / "1")
    export(model, encoder, path)
    return model, encoder, before, report, path, hp


def test_only_the_top_layers_train(tuned):
    model, encoder, before, report, _, hp = tuned
    layers = encoder.transformer_layers

    def moved(name, weights):
        return max(np.abs(w.numpy() - b).max() for w, b in zip(weights, before[name]))

    assert moved("top", layers[-1].weights) > 1e-3
    assert moved("bottom", layers[0].weights) == 0.0
    assert moved("embeddings", encoder.bert.bert.embeddings.weights) == 0.0
    trainable = {id(w) for w in model.trainable_weights}
    assert all(id(w) in trainable for w in layers[-1].trainable_weights)
    assert not any(id(w) in trainable for w in layers[0].weights)
    tower_text = sum(int(np.prod(w.shape)) for w in model.item_tower.projection.trainable_weights)
    top = sum(int(np.prod(w.shape)) for w in layers[-1].trainable_weights)
    assert content_parameter_counts(hp, encoder)["top_layers"] == tower_text + top
    assert np.all(np.isfinite(report["loss"])) and report["eval"][-1]["all"]["HR@10"] > 0.3


def test_tables_follow_the_tuned_encoder(tuned):
    model, encoder, _, _, _, _ = tuned
    items = model.item_tower.content.numpy()
    np.testing.assert_allclose(items[:-1], encoder(np.array(model.catalog.texts)), atol=1e-5)
    queries = model.query_lookup.table.numpy()[1:]
    np.testing.assert_allclose(queries, encoder(np.array(QUERIES)), atol=1e-5)


def test_export_serves_the_tuned_text_path_without_the_cache(tuned):
    model, _, _, _, path, _ = tuned
    loaded = tf.saved_model.load(path)
    ids = model.catalog.ids[:4]
    embedded = loaded.signatures["embed_items"](
        item_ids=tf.constant(ids),
        texts=tf.constant(model.catalog.texts[:4]),
        categories=tf.constant(["|".join(names) for names in model.catalog.categories[:4]]),
    )["embeddings"].numpy()
    np.testing.assert_allclose(embedded, model.item_vectors(tf.constant(ids)).numpy(), atol=1e-4)
    saved = saved_model_pb2.SavedModel()
    with open(f"{path}/saved_model.pb", "rb") as handle:
        saved.ParseFromString(handle.read())
    cache_shape = tuple(model.text_cache.hidden.shape)
    graph = saved.meta_graphs[0].graph_def
    nodes = [n for f in graph.library.function for n in f.node_def] + list(graph.node)
    shapes = {
        tuple(d.size for d in n.attr["value"].tensor.tensor_shape.dim)
        for n in nodes
        if n.op == "Const"
    }
    assert cache_shape not in shapes  # the hidden-state cache is training-only


def test_top_layers_needs_the_encoder(toy_catalog, tiny_hp):
    hp = replace(tiny_hp, content_tuning="top_layers")
    with pytest.raises(ValueError, match="BertTextEncoder"):
        RtrecModel(toy_catalog, toy_catalog.ids, ["view"], hp, GAP_S)
