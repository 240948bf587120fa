"""The towers: items (id + BERT text) and users (causal self-attention over the fresh history).

Towers take raw strings and do their own lookups with the same hashing as tf.Transform's
``apply_vocabulary`` (``StaticVocabularyTable`` over Transform's vocabulary files), so the served
model reads raw requests and the benchmark builds the same model without TFX. The user tower
reads a dict keyed by ``rtrec.features`` (``trainer.inputs.user_features`` builds it for
training batches, served requests and eval examples alike).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rtrec import features as fk
from trainer.visits import CELLS


def vocabulary_table(vocab: list[str], oov_buckets: int) -> tf.lookup.StaticVocabularyTable:
    """String -> index, unseen strings hashed into ``oov_buckets`` rows after the vocabulary."""
    init = tf.lookup.KeyValueTensorInitializer(
        tf.constant(vocab or ["<none>"], tf.string),
        tf.range(max(len(vocab), 1), dtype=tf.int64),
    )
    return tf.lookup.StaticVocabularyTable(init, num_oov_buckets=oov_buckets)


class _Adapter(tf.keras.layers.Layer):
    """Residual bottleneck adapter over frozen text vectors (parameter-efficient tuning)."""

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.width = width

    def build(self, input_shape):
        self.down = tf.keras.layers.Dense(self.width, activation="gelu")
        self.up = tf.keras.layers.Dense(int(input_shape[-1]), kernel_initializer="zeros")
        super().build(input_shape)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return x + self.up(self.down(x))


class ItemTower(tf.keras.layers.Layer):
    """Item id -> id embedding (zero for ids outside the vocabulary) + projected text vector.

    During training the id part is dropped for ``id_dropout`` of item occurrences, so the text
    path alone must place items well: that is how an item nobody has interacted with yet is
    served by its text (cold start).
    """

    def __init__(
        self,
        catalog_ids: list[str],
        content: np.ndarray,
        vocab: list[str],
        *,
        embedding_dim: int,
        oov_buckets: int,
        adapter_dim: int | None,
        id_dropout: float,
        **kwargs,
    ):
        """``adapter_dim`` None: no adapter (``content_tuning`` frozen or top_layers)."""
        super().__init__(**kwargs)
        self.id_dropout = id_dropout
        rows = tf.lookup.KeyValueTensorInitializer(
            tf.constant(catalog_ids, tf.string), tf.range(len(catalog_ids), dtype=tf.int64)
        )
        self.content_rows = tf.lookup.StaticHashTable(rows, default_value=len(catalog_ids))
        padded = np.concatenate([content, np.zeros((1, content.shape[1]), np.float32)])
        self.content = tf.Variable(padded.astype(np.float32), trainable=False, name="content")
        self.vocab_size = len(vocab)
        self.vocabulary = list(vocab)
        """The ids with an id embedding, in row order (warm start remaps rows by id)."""
        self.id_table = vocabulary_table(vocab, oov_buckets)
        rows_in_table = len(vocab) + oov_buckets
        init = tf.keras.initializers.RandomNormal(stddev=0.01)
        self.id_embedding = tf.keras.layers.Embedding(
            rows_in_table, embedding_dim, embeddings_initializer=init, name="item_id_embedding"
        )
        self.adapter = _Adapter(adapter_dim) if adapter_dim else None
        self.tuned_text = None
        """With ``content_tuning='top_layers'``: the trainer.content_tuning.TopLayerCache whose
        rows 0..n-1 are the catalog items; ``content`` then holds its last refreshed output."""
        self.projection = tf.keras.layers.Dense(embedding_dim, name="content_projection")

    def text_part(self, text_vectors: tf.Tensor) -> tf.Tensor:
        """Project text vectors (from the table or from the in-graph BERT) into item space."""
        x = self.adapter(text_vectors) if self.adapter is not None else text_vectors
        return self.projection(x)

    def known(self, item_ids: tf.Tensor) -> tf.Tensor:
        """Vocabulary index of each id and whether it is in the vocabulary (not an OOV row)."""
        index = self.id_table.lookup(item_ids)
        return index, index < self.vocab_size

    def id_part(self, item_ids: tf.Tensor) -> tf.Tensor:
        """Id embedding of known ids; zero for ids outside the vocabulary (their OOV bucket).

        A shared hashed OOV vector would make every cold item look alike; zero leaves them
        to their text, which is what the id dropout trained for.
        """
        index, known = self.known(item_ids)
        return self.id_embedding(index) * tf.cast(known, tf.float32)[..., None]

    def call(self, item_ids: tf.Tensor, training: bool = False, live: bool = False) -> tf.Tensor:
        """Item vectors; ``live`` runs the tuned BERT layers (gradient) instead of the table."""
        rows = self.content_rows.lookup(item_ids)
        if live and self.tuned_text is not None:
            unknown = tf.cast(self.tuned_text.size, rows.dtype)
            n_items = tf.cast(tf.shape(self.content)[0] - 1, rows.dtype)
            text = self.tuned_text(tf.where(rows < n_items, rows, unknown), training=training)
        else:
            text = tf.gather(self.content, rows)
        ids = self.id_part(item_ids)
        if training and self.id_dropout > 0:
            keep = tf.random.uniform(tf.shape(item_ids)) >= self.id_dropout
            ids *= tf.cast(keep, ids.dtype)[..., None]
        return self.text_part(text) + ids


class _Block(tf.keras.layers.Layer):
    """Pre-norm transformer block: masked self-attention and a feed-forward layer."""

    def __init__(self, dim: int, heads: int, dropout: float, **kwargs):
        super().__init__(**kwargs)
        self.attention = tf.keras.layers.MultiHeadAttention(heads, dim // heads, dropout=dropout)
        self.ffn = tf.keras.Sequential(
            [tf.keras.layers.Dense(dim * 2, activation="gelu"), tf.keras.layers.Dense(dim)]
        )
        self.norm1 = tf.keras.layers.LayerNormalization()
        self.norm2 = tf.keras.layers.LayerNormalization()
        self.drop = tf.keras.layers.Dropout(dropout)

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        h = self.norm1(x)
        x = x + self.drop(self.attention(h, h, attention_mask=mask, training=training), training)
        return x + self.drop(self.ffn(self.norm2(x)), training=training)


class UserTower(tf.keras.layers.Layer):
    """The user vector from the history, a search query and the user key.

    SASRec-style causal self-attention over the most recent interactions (item vector +
    event-type, recency-bucket and position embeddings), summarized at the latest step; plus,
    with ``long_term``, a projection of the mean of the history's item vectors, weighted per
    visit cell with ``visit_pooling`` (one learned weight per cell, starting at the plain mean);
    plus the query vector (search) and a user-key embedding, dropped for ``user_id_dropout`` of
    training examples and absent for an empty key, so users the model never saw are served from
    their history alone.
    """

    def __init__(
        self,
        event_types: list[str],
        *,
        embedding_dim: int,
        history_length: int,
        num_blocks: int,
        num_heads: int,
        dropout: float,
        long_term: bool,
        visit_pooling: bool,
        user_id_buckets: int | None,
        user_id_dropout: float,
        **kwargs,
    ):
        """``user_id_buckets`` None: no user-key embedding."""
        super().__init__(**kwargs)
        dim = embedding_dim
        self.length, self.user_id_buckets, self.user_id_dropout = (
            history_length, user_id_buckets, user_id_dropout
        )  # fmt: skip
        self.type_table = vocabulary_table(event_types, 1)
        self.type_embedding = tf.keras.layers.Embedding(len(event_types) + 1, dim)
        self.recency_embedding = tf.keras.layers.Embedding(len(fk.RECENCY_BOUNDARIES_S) + 1, dim)
        self.position_embedding = tf.keras.layers.Embedding(history_length, dim)
        self.blocks = [_Block(dim, num_heads, dropout) for _ in range(num_blocks)]
        self.norm = tf.keras.layers.LayerNormalization()
        self.drop = tf.keras.layers.Dropout(dropout)
        self.query_projection = tf.keras.layers.Dense(dim, name="query_projection")
        self.user_embedding = (
            tf.keras.layers.Embedding(user_id_buckets, dim, name="user_embedding")
            if user_id_buckets
            else None
        )
        self.long_term = (
            tf.keras.layers.Dense(
                dim, use_bias=False, kernel_initializer="identity", name="long_term_interest"
            )
            if long_term
            else None
        )
        self.visit_weights = (
            tf.keras.layers.Embedding(
                CELLS, 1, embeddings_initializer="zeros", name="visit_pooling"
            )
            if visit_pooling
            else None
        )
        """Log-weight of each visit cell; zeros start as the plain mean."""
        self.mix = tf.keras.Sequential(
            [tf.keras.layers.Dense(dim * 2, activation="gelu"), tf.keras.layers.Dense(dim)]
        )

    def sequence(self, history_vectors, event_types, ages_s, mask, training: bool = False):
        """Every position's state after causal attention; the last one is the summary."""
        buckets = tf.raw_ops.Bucketize(
            input=tf.cast(ages_s, tf.float32), boundaries=list(fk.RECENCY_BOUNDARIES_S)
        )
        x = (
            history_vectors
            + self.type_embedding(self.type_table.lookup(event_types))
            + self.recency_embedding(buckets)
            + self.position_embedding(tf.range(self.length))[None]
        )
        x = self.drop(x * tf.cast(mask, x.dtype)[..., None], training=training)
        causal = tf.linalg.band_part(tf.ones([self.length, self.length], tf.bool), -1, 0)
        attend = tf.logical_and(causal[None], mask[:, None, :])
        for block in self.blocks:
            x = block(x, attend, training=training)
        return self.norm(x)

    def call(self, features: dict, history_vectors, cells, training: bool = False) -> tf.Tensor:
        """``features``: ``rtrec.features.USER_FEATURES`` with ``QUERY_VECTOR`` for the query
        text; ``history_vectors`` the item tower's vectors of the history; ``cells`` the
        ``trainer.visits.visit_cells`` of the history. Returns [batch, embedding_dim]."""
        mask = tf.not_equal(features[fk.HISTORY_ITEM_IDS], fk.PAD_ITEM)
        query_vectors = features[fk.QUERY_VECTOR]
        has_history = tf.cast(tf.reduce_any(mask, axis=1, keepdims=True), tf.float32)
        query = tf.cast(has_query(query_vectors), tf.float32)
        states = self.sequence(
            history_vectors, features[fk.HISTORY_EVENT_TYPES], features[fk.HISTORY_AGES_S],
            mask, training,
        )  # fmt: skip
        summary = states[:, -1] * has_history
        parts = [summary, self.query_projection(query_vectors) * query, has_history, query]
        if self.user_embedding is not None:
            keys = features[fk.USER_KEY]
            buckets = tf.strings.to_hash_bucket_fast(keys, self.user_id_buckets)
            known = tf.cast(keys != "", tf.float32)[:, None]
            if training and self.user_id_dropout > 0:
                keep = tf.random.uniform(tf.shape(known)) >= self.user_id_dropout
                known *= tf.cast(keep, tf.float32)
            parts.append(self.user_embedding(buckets) * known)
        user = summary + self.mix(tf.concat(parts, axis=1))
        if self.long_term is not None:
            user += self.long_term(self._pool_history(history_vectors, cells, mask))
        return user

    def _pool_history(self, history_vectors, cells, mask) -> tf.Tensor:
        """Weighted mean of the real history steps (plain, or by visit cell); 0 for none."""
        weights = tf.cast(mask, history_vectors.dtype)[..., None]
        if self.visit_weights is not None:
            weights *= tf.exp(self.visit_weights(cells))
        total = tf.reduce_sum(weights, 1)
        return tf.reduce_sum(history_vectors * weights, 1) / tf.maximum(total, 1e-9)


def has_query(query_vectors: tf.Tensor) -> tf.Tensor:
    """[batch, 1] bool: the request carries a search query (a query vector is never all zeros;
    recommendations pass zeros). A search follows the query: history-only extras step back."""
    return tf.reduce_any(tf.not_equal(query_vectors, 0), axis=1, keepdims=True)
