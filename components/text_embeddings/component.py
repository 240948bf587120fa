"""TextEmbedder: a Beam TFX component that embeds item texts and search queries with BERT.

The content tower's backbone is frozen by default, so its output for a text never changes:
computing it once per catalog version (and only for texts missing from the cache) takes the
BERT forward pass out of every training step. Batches go through a DoFn that loads the encoder
once per worker. The output artifact holds ``embeddings.npz``: ``keys`` (text hashes), ``texts``
and ``vectors`` [n, dim], covering every catalog text and every query in the examples.
"""

# No `from __future__ import annotations`: TFX reads the real annotation objects.
import glob
import json
import os

import apache_beam as beam
import numpy as np
import tensorflow as tf
from tfx.types import standard_artifacts
from tfx.v1.dsl.components import (
    BeamComponentParameter,
    InputArtifact,
    OutputArtifact,
    Parameter,
    component,
)

from components.artifacts import ItemCatalog, TextEmbeddings
from rtrec import features as fk
from trainer import text_cache as cache

_NEW_DIR = "new_vectors"
_KEYS_DIR = "needed_keys"


def _texts_of(serialized: bytes, key: str) -> list[str]:
    example = tf.train.Example.FromString(serialized)
    values = example.features.feature[key].bytes_list.value
    return [v.decode("utf-8") for v in values if v]


class _EmbedBatch(beam.DoFn):
    """Embeds batches of (hash, text); the encoder is built once per worker in ``setup``."""

    def __init__(self, kind: str, max_tokens: int):
        self.kind, self.max_tokens = kind, max_tokens

    def setup(self):
        from trainer.bert import BertTextEncoder, EncoderSpec

        encoder = BertTextEncoder(EncoderSpec(self.kind, self.max_tokens))
        self.encode = tf.function(encoder.call, input_signature=[tf.TensorSpec([None], tf.string)])

    def process(self, batch):
        keys = [k for k, _ in batch]
        vectors = self.encode(tf.constant([t for _, t in batch])).numpy()
        for key, vector in zip(keys, vectors):
            example = tf.train.Example()
            example.features.feature["key"].bytes_list.value.append(key.encode())
            example.features.feature["vector"].float_list.value.extend(vector.tolist())
            yield example.SerializeToString()


def build(p, catalog_pattern, example_patterns, cached, kind, max_tokens, out_dir):
    """Read texts, embed those missing from the cache, write new vectors and needed keys."""
    item_texts = (
        p
        | "ReadCatalog" >> beam.io.ReadFromTFRecord(catalog_pattern)
        | "ItemTexts" >> beam.FlatMap(_texts_of, fk.ITEM_TEXT)
    )
    queries = (
        p
        | "ExampleFiles" >> beam.Create(example_patterns)
        | "ReadExamples" >> beam.io.ReadAllFromTFRecord()
        | "Queries" >> beam.FlatMap(_texts_of, fk.QUERY)
    )
    keyed = (
        (item_texts, queries)
        | "AllTexts" >> beam.Flatten()
        | "Distinct" >> beam.Distinct()
        | "Hash" >> beam.Map(lambda text: (cache.text_hash(text), text))
    )
    _ = (
        keyed
        | "KeyJson" >> beam.Map(json.dumps)
        | "WriteKeys" >> beam.io.WriteToText(os.path.join(out_dir, _KEYS_DIR, "keys"))
    )
    _ = (
        keyed
        | "NotCached" >> beam.Filter(lambda kv: kv[0] not in cached)
        | "Batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=128)
        | "Embed" >> beam.ParDo(_EmbedBatch(kind, max_tokens))
        | "WriteNew" >> beam.io.WriteToTFRecord(os.path.join(out_dir, _NEW_DIR, "part"))
    )


def _read_new(out_dir: str) -> dict[str, np.ndarray]:
    files = sorted(glob.glob(os.path.join(out_dir, _NEW_DIR, "part*")))
    found = {}
    for record in tf.data.TFRecordDataset(files).as_numpy_iterator() if files else []:
        example = tf.train.Example.FromString(record)
        key = example.features.feature["key"].bytes_list.value[0].decode()
        found[key] = np.array(example.features.feature["vector"].float_list.value, np.float32)
    return found


def _read_keys(out_dir: str) -> dict[str, str]:
    """Text hash -> text of every text the artifact must cover."""
    texts: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(out_dir, _KEYS_DIR, "keys*"))):
        with open(path, encoding="utf-8") as handle:
            texts.update(json.loads(line) for line in handle if line.strip())
    return texts


def run_text_embeddings(
    catalog_uri, examples_uri, kind, max_tokens, cache_dir, pipeline, out_dir
) -> dict:
    """Run the graph on ``pipeline`` and write ``embeddings.npz``; returns counts."""
    namespace = cache.fingerprint(kind, max_tokens)
    cached = cache.load(cache_dir, namespace)
    catalog_pattern = os.path.join(catalog_uri, "catalog", "*")
    example_patterns = [os.path.join(examples_uri, f"Split-{s}", "*") for s in ("train", "eval")]
    with pipeline as p:
        build(p, catalog_pattern, example_patterns, frozenset(cached), kind, max_tokens, out_dir)
    new = _read_new(out_dir)
    cache.add(cache_dir, namespace, new)
    texts = _read_keys(out_dir)
    total = cache.save_embeddings(out_dir, texts, {k: new.get(k, cached.get(k)) for k in texts})
    counts = {"texts": total, "computed": len(new), "from_cache": total - len(new)}
    with open(os.path.join(out_dir, "counts.json"), "w", encoding="utf-8") as handle:
        json.dump({**counts, "encoder": namespace}, handle)
    return counts


@component(use_beam=True)
def TextEmbedder(  # noqa: N802  (TFX components are named like classes)
    item_catalog: InputArtifact[ItemCatalog],
    examples: InputArtifact[standard_artifacts.Examples],
    text_embeddings: OutputArtifact[TextEmbeddings],
    encoder: Parameter[str] = "minilm",
    max_tokens: Parameter[int] = 48,
    cache_dir: Parameter[str] = "",
    beam_pipeline_param: BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """Embed every catalog text and example query with the frozen BERT (cached by text hash)."""
    counts = run_text_embeddings(
        item_catalog.uri,
        examples.uri,
        encoder,
        max_tokens,
        cache_dir,
        beam_pipeline_param,
        text_embeddings.uri,
    )
    for key, value in counts.items():
        text_embeddings.set_int_custom_property(key, value)
    text_embeddings.set_string_custom_property("encoder", cache.fingerprint(encoder, max_tokens))
