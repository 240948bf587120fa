"""Batch text embedding with the frozen BERT, cached by text hash (outside Beam).

The benchmark and tests embed catalogs in-process; the pipeline uses the TextEmbedder
component, which shares the same encoder and the same cache layout.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from trainer import text_cache as cache
from trainer.bert import BertTextEncoder, EncoderSpec

_ENCODERS: dict[tuple[str, int], tf.types.experimental.GenericFunction] = {}


def _encoder(kind: str, max_tokens: int):
    key = (kind, max_tokens)
    if key not in _ENCODERS:
        layer = BertTextEncoder(EncoderSpec(kind, max_tokens))
        _ENCODERS[key] = tf.function(layer.call, input_signature=[tf.TensorSpec([None], tf.string)])
    return _ENCODERS[key]


def embed_texts(
    texts: list[str],
    kind: str = "minilm",
    max_tokens: int = 48,
    cache_dir: str = "",
    batch_size: int = 128,
) -> np.ndarray:
    """Vectors [len(texts), dim] for ``texts``; only texts missing from the cache are encoded."""
    namespace = cache.fingerprint(kind, max_tokens)
    known = cache.load(cache_dir, namespace)
    keys = [cache.text_hash(t) for t in texts]
    todo = sorted({k: t for k, t in zip(keys, texts) if k not in known}.items())
    new: dict[str, np.ndarray] = {}
    if todo:
        encode = _encoder(kind, max_tokens)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            vectors = encode(tf.constant([t for _, t in chunk])).numpy()
            new.update({k: v for (k, _), v in zip(chunk, vectors)})
        cache.add(cache_dir, namespace, new)
    known.update(new)
    return np.stack([known[k] for k in keys]).astype(np.float32)
