"""The serving index: exact brute-force top-k over the served vectors, the sparse part sparse.

A served item vector is the unit tower part (``embedding_dim`` dense floats) followed by the
affinity columns (one per category and informative word; ``trainer/affinity.py``), which are
almost all zero: an item has a category or two and a few words out of hundreds of columns. A
dense [items, width] index (TFRS ``BruteForce``) reads every zero on every request: at 680
floats it is ten times the tower part's bytes, and the scoring matmul is bound by memory
bandwidth. Here the tower part stays a dense matrix and the affinity part a sparse one, scored
with ``sparse_dense_matmul``: the same scores (so the same ranking) for a fraction of the work
and memory. Both are core TF ops, so stock TF Serving runs the index.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

MAX_SPARSE_DENSITY = 0.1
"""Above this share of non-zeros the columns stay dense: a sparse product would cost more."""


class CatalogIndex(tf.Module):
    """Top-k over ``vectors`` [items, width] whose columns from ``dense_width`` on are sparse."""

    def __init__(self, vectors: np.ndarray, identifiers: np.ndarray, dense_width: int):
        super().__init__()
        vectors = np.asarray(vectors, np.float32)
        tail = vectors[:, dense_width:]
        if tail.size == 0 or np.count_nonzero(tail) > MAX_SPARSE_DENSITY * tail.size:
            dense_width, tail = vectors.shape[1], vectors[:, vectors.shape[1] :]
        # Variables, not constants: saved once in the SavedModel's variables, not in each graph.
        self.dense = tf.Variable(vectors[:, :dense_width], trainable=False, name="dense")
        rows, columns = np.nonzero(tail)  # row-major: the canonical order a SparseTensor needs
        self.sparse_indices = tf.Variable(
            np.stack([rows, columns], 1).astype(np.int64).reshape(-1, 2),
            trainable=False, name="sparse_indices",
        )  # fmt: skip
        self.sparse_values = tf.Variable(tail[rows, columns], trainable=False, name="sparse_values")
        self.sparse_shape = tail.shape
        self.dense_width = dense_width
        self.identifiers = tf.Variable(
            tf.constant(identifiers, tf.string), trainable=False, name="identifiers"
        )
        self.size = len(vectors)

    def scores(self, users: tf.Tensor) -> tf.Tensor:
        """[batch, width] user vectors -> [batch, items] dot products with every item."""
        scores = tf.matmul(users[:, : self.dense_width], self.dense, transpose_b=True)
        if self.sparse_shape[1]:
            tail = tf.SparseTensor(self.sparse_indices, self.sparse_values, self.sparse_shape)
            product = tf.sparse.sparse_dense_matmul(
                tail, users[:, self.dense_width :], adjoint_b=True
            )
            scores += tf.transpose(product)
        return scores

    def top_k(
        self, users: tf.Tensor, exclude_rows: tf.Tensor, k: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """The best ``k`` (identifiers, scores) per user, best first, leaving out the items at
        ``exclude_rows`` [batch, any] (-1: nothing). Excluded before the top-k, not filtered
        after it: no over-fetch, and k is exact however many are excluded (an excluded item
        comes last with score -inf only when fewer than k others exist)."""
        scores = self.scores(users)
        where = tf.where(exclude_rows >= 0)
        rows = tf.gather_nd(exclude_rows, where)
        at = tf.stack([where[:, 0], tf.cast(rows, tf.int64)], axis=1)
        scores = tf.tensor_scatter_nd_update(
            scores, at, tf.fill(tf.shape(rows), tf.constant(-np.inf, scores.dtype))
        )
        best, top = tf.math.top_k(scores, k=tf.minimum(k, self.size))
        return tf.gather(self.identifiers, top), best
