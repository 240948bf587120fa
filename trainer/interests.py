"""Multi-interest users: K vectors per user, an item scores by its best-matching interest.

One user vector trained on the next click points at the current session; a shopper who
comes back for tents next week and for kettles the week after has several interests, and
their mean matches neither. Following MIND (Li et al., 2019) and ComiRec-SA (Cen et al.,
2020), the user tower also emits ``interests - 1`` attention-pooled centroids of the
history's item vectors; an item's score is the maximum over the user's vectors, in offline
ranking and in serving, where each interest queries the ``BruteForce`` index and the
per-interest lists are merged: the merge is exact, since an item in the overall top k is in
the top k of its best interest. Training is label-aware (``best_interest``): a target trains
the softmax of the interest nearest to it, so the other interests keep their own clusters.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class InterestExtractor(tf.keras.layers.Layer):
    """ComiRec-SA pooling: ``count`` attention heads over the history, each a soft cluster.

    Attention weights come from the behaviour tower's contextual states (which know event
    types, recency and order); the values are the history's item vectors themselves, so each
    interest starts in item space (identity-initialised projection), like the long-term mean.
    """

    def __init__(self, count: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.attention = tf.keras.Sequential(
            [tf.keras.layers.Dense(dim, activation="tanh"), tf.keras.layers.Dense(count)]
        )
        self.projection = tf.keras.layers.Dense(
            dim, use_bias=False, kernel_initializer="identity", name="interest_projection"
        )

    def call(self, states: tf.Tensor, item_vectors: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """[batch, length, dim] states and item vectors, [batch, length] mask -> [b, count, dim]."""
        logits = self.attention(states)
        logits = tf.where(mask[..., None], logits, tf.constant(-1e9, logits.dtype))
        weights = tf.nn.softmax(logits, axis=1)
        return self.projection(tf.einsum("blk,bld->bkd", weights, item_vectors))


def max_scores(users: tf.Tensor, items: tf.Tensor) -> tf.Tensor:
    """Each item's score under the user's best interest: [batch, K, d] users with [n, d]
    items shared by every user, or [batch, n, d] items per user -> [batch, n]."""
    pattern = "bkd,nd->bkn" if items.shape.rank == 2 else "bkd,bnd->bkn"
    return tf.reduce_max(tf.einsum(pattern, users, items), axis=1)


def best_interest(users: tf.Tensor, items: tf.Tensor) -> tf.Tensor:
    """[batch, K, d] users, [batch, d] targets -> [batch, d]: the interest nearest the target.

    MIND's label-aware selection, for losses that take one query vector (TFRS ``Retrieval``,
    the ranking head): the target is explained by the interest that matches it best.
    """
    choice = tf.argmax(tf.einsum("bkd,bd->bk", users, items), axis=1)
    return tf.gather(users, choice, batch_dims=1)


def merge_interest_results(
    ids: tf.Tensor, scores: tf.Tensor, rows: tf.lookup.StaticHashTable
) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-interest index results [batch, K*L] -> one list, each item once at its best score.

    ``rows`` maps item ids to distinct integers (the catalog rows). Sorting by score, then
    stably by row, puts each item's copies side by side, best first; later copies get -inf.
    Core ops only (TopKV2 sorts), so stock TF Serving runs it.
    """
    width = tf.shape(scores)[1]
    best, order = tf.math.top_k(scores, k=width)
    ids = tf.gather(ids, order, batch_dims=1)
    keys = rows.lookup(ids)
    grouped = tf.argsort(keys, axis=1, stable=True)
    keys = tf.gather(keys, grouped, batch_dims=1)
    ids = tf.gather(ids, grouped, batch_dims=1)
    best = tf.gather(best, grouped, batch_dims=1)
    first = tf.concat(
        [tf.ones_like(keys[:, :1], tf.bool), tf.not_equal(keys[:, 1:], keys[:, :-1])], axis=1
    )
    return ids, tf.where(first, best, tf.fill(tf.shape(best), tf.constant(-np.inf, best.dtype)))
