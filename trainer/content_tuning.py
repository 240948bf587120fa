"""``content_tuning: top_layers``: fine-tune BERT's top N layers without running all of BERT.

The bottom L-N layers stay frozen, so their output for a given text never changes: it is
computed once per text (item texts and search queries) and kept as a cache of hidden states.
A training step then runs only the top N layers, and only for the batch's target items (the
positives carry the gradient). Every other text vector the model reads (history items, the
full-catalog negatives, queries) comes from a table of tuned vectors that ``refresh`` rebuilds
through the current top layers after each epoch and before export: stale-by-one-epoch negatives,
the same trade as ANCE's asynchronous index refresh. Running the top layers for the whole
catalog at every step would cost catalog x tokens x layers per step, which only a GPU affords.

The tuned layers are the very layer objects of the serving ``BertTextEncoder``, so the
exported in-graph text path (new items, search queries) uses the tuned weights too.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from trainer.bert import BertTextEncoder

CACHE_BATCH = 256


def _extended_mask(mask: tf.Tensor, dtype) -> tf.Tensor:
    """BERT's additive attention mask [batch, 1, 1, tokens]: 0 for tokens, -10000 for padding."""
    return (1.0 - tf.cast(mask, dtype))[:, None, None, :] * -10000.0


class TopLayerCache(tf.keras.layers.Layer):
    """Hidden states of ``texts`` below the top ``n_layers`` BERT layers, and those layers.

    Row ``len(texts)`` is all padding and encodes to the zero vector (unknown items).
    """

    def __init__(self, encoder: BertTextEncoder, texts: list[str], n_layers: int, **kwargs):
        super().__init__(**kwargs)
        self.tuned_layers = encoder.unfreeze_top(n_layers)
        hidden, mask = _frozen_states(encoder, texts, len(encoder.transformer_layers) - n_layers)
        # Constants, not variables: a SavedModel never needs them (serving runs the whole
        # encoder on raw text) and they are large (texts x tokens x hidden size).
        self.hidden = tf.constant(hidden)
        self.mask = tf.constant(mask)
        self.size = len(texts)

    def call(self, rows: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Tuned, L2-normalized text vectors of cache rows (any shape); each row runs once."""
        flat = tf.reshape(rows, [-1])
        unique, position = tf.unique(flat)
        hidden = tf.gather(self.hidden, unique)
        mask = tf.gather(self.mask, unique)
        extended = _extended_mask(mask, hidden.dtype)
        for layer in self.tuned_layers:
            hidden = layer(hidden, extended, None, None, None, None, False, training=training)[0]
        weights = tf.cast(mask, hidden.dtype)[:, :, None]
        pooled = tf.reduce_sum(hidden * weights, 1) / tf.maximum(tf.reduce_sum(weights, 1), 1.0)
        vectors = tf.gather(tf.math.l2_normalize(pooled, axis=-1), position)
        return tf.reshape(vectors, tf.concat([tf.shape(rows), [-1]], 0))

    def all_vectors(self) -> np.ndarray:
        """Tuned vectors of every cached text (padding row included), in batches."""
        parts = [
            self(tf.range(start, min(start + CACHE_BATCH, self.size + 1))).numpy()
            for start in range(0, self.size + 1, CACHE_BATCH)
        ]
        return np.concatenate(parts)


def _frozen_states(
    encoder: BertTextEncoder, texts: list[str], layer: int
) -> tuple[np.ndarray, np.ndarray]:
    """Input hidden states of BERT layer ``layer`` for each text, plus a padding row."""
    states, masks = [], []
    for start in range(0, len(texts), CACHE_BATCH):
        ids, mask = encoder.tokenize(tf.constant(texts[start : start + CACHE_BATCH]))
        out = encoder.bert(
            input_ids=tf.cast(ids, tf.int32), attention_mask=mask, output_hidden_states=True
        )
        states.append(out.hidden_states[layer].numpy())
        masks.append(mask.numpy())
    tokens, dim = encoder.spec.max_tokens, encoder.dim
    states.append(np.zeros((1, tokens, dim), np.float32))
    masks.append(np.zeros((1, tokens), np.int64))
    return np.concatenate(states).astype(np.float32), np.concatenate(masks)
