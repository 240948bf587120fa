"""The towers: items (id + BERT text), behaviour (causal self-attention) and the user/query mix.

Towers take raw strings and do their own lookups with the same hashing as tf.Transform's
``apply_vocabulary`` (``StaticVocabularyTable``), so the served model needs no Transform graph
and the benchmark can build it without TFX; a test checks that both agree on real data.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from trainer import features as fk
from trainer.hparams import Hyperparameters
from trainer.interests import InterestExtractor


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
    """Item id -> id embedding (OOV rows for unseen ids) + projected BERT text vector.

    During training the id part is dropped for ``id_dropout`` of item occurrences, so the text
    path alone must place items well: that is how an item nobody has interacted with yet is
    served by its text (cold start).
    """

    def __init__(
        self,
        catalog_ids: list[str],
        content: np.ndarray,
        vocab: list[str],
        hp: Hyperparameters,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hp = hp
        rows = tf.lookup.KeyValueTensorInitializer(
            tf.constant(catalog_ids, tf.string), tf.range(len(catalog_ids), dtype=tf.int64)
        )
        self.content_rows = tf.lookup.StaticHashTable(rows, default_value=len(catalog_ids))
        padded = np.concatenate([content, np.zeros((1, content.shape[1]), np.float32)])
        self.content = tf.Variable(padded.astype(np.float32), trainable=False, name="content")
        self.vocab_size = len(vocab)
        self.id_table = vocabulary_table(vocab, hp.item_oov_buckets)
        self.id_embedding = tf.keras.layers.Embedding(
            len(vocab) + hp.item_oov_buckets,
            hp.embedding_dim,
            embeddings_initializer=tf.keras.initializers.RandomNormal(stddev=0.01),
            name="item_id_embedding",
        )
        self.adapter = _Adapter(hp.adapter_dim) if hp.content_tuning == "adapter" else None
        self.bias_embedding = (
            tf.keras.layers.Embedding(
                len(vocab) + hp.item_oov_buckets,
                1,
                embeddings_initializer="zeros",
                name="item_bias",
            )  # fmt: skip
            if hp.item_bias
            else None
        )
        self.tuned_text = None
        """With ``content_tuning='top_layers'``: the trainer.content_tuning.TopLayerCache whose
        rows 0..n-1 are the catalog items; ``content`` then holds its last refreshed output."""
        self.projection = tf.keras.layers.Dense(hp.embedding_dim, name="content_projection")

    def text_part(self, text_vectors: tf.Tensor) -> tf.Tensor:
        """Project text vectors (from the table or from the in-graph BERT) into item space."""
        x = self.adapter(text_vectors) if self.adapter is not None else text_vectors
        return self.projection(x)

    def id_part(self, item_ids: tf.Tensor) -> tf.Tensor:
        """Id embedding of known ids; zero for ids outside the vocabulary (their OOV bucket).

        A shared hashed OOV vector would make every cold item look alike; zero leaves them
        to their text, which is what the id dropout trained for.
        """
        index = self.id_table.lookup(item_ids)
        known = tf.cast(index < self.vocab_size, tf.float32)[..., None]
        return self.id_embedding(index) * known

    def bias(self, item_ids: tf.Tensor) -> tf.Tensor:
        """Learned score offset of known ids; 0 for ids outside the vocabulary (cold items)."""
        index = self.id_table.lookup(item_ids)
        known = tf.cast(index < self.vocab_size, tf.float32)
        return self.bias_embedding(index)[..., 0] * known

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
        if training and self.hp.id_dropout > 0:
            keep = tf.random.uniform(tf.shape(item_ids)) >= self.hp.id_dropout
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


def _with_previous_step(ages_s: tf.Tensor, mask: tf.Tensor):
    """(ages, the previous step's age, whether a real previous step is in view), per step."""
    ages = tf.cast(ages_s, tf.float32)
    before = tf.concat([ages[:, :1], ages[:, :-1]], axis=1)
    has_before = tf.concat([tf.zeros_like(mask[:, :1]), mask[:, :-1]], axis=1)
    return ages, before, has_before


def opens_visit(ages_s: tf.Tensor, visit_gap_s: float) -> tf.Tensor:
    """[batch] bool: the request (or training target) opens a new visit.

    Ages count back from it, so the last step's age is the idle time before it; an empty
    history (padding age < 0) is a first visit. The loss's ``visit_start_weight`` and the
    tower's ``visit_pooling`` share this one rule.
    """
    last = tf.cast(ages_s[:, -1], tf.float32)
    return tf.logical_or(last >= visit_gap_s, last < 0)


def gap_buckets(ages_s: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Bucket of the time between each step and the one before it (TiSASRec's intervals).

    Ages count back from "now", so the gap is the previous step's age minus this one's; the
    buckets are the recency ones, and a step with no earlier step in view (the first real one,
    padding; ``mask`` says which steps are real) gets its own bucket,
    ``len(RECENCY_BOUNDARIES_S) + 1``. A long gap marks the first item of a visit, which on a
    return after days says which interest brought the user back; recency alone cannot tell a
    visit's first item from its last.
    """
    ages, before, has_before = _with_previous_step(ages_s, mask)
    gaps = tf.raw_ops.Bucketize(
        input=tf.maximum(before - ages, 0.0), boundaries=list(fk.RECENCY_BOUNDARIES_S)
    )
    return tf.where(has_before, gaps, len(fk.RECENCY_BOUNDARIES_S) + 1)


def has_query(query_vectors: tf.Tensor) -> tf.Tensor:
    """[batch, 1] bool: the request carries a search query (a query vector is never all zeros;
    recommendations pass zeros). A search follows the query, so history-only extras step back."""
    return tf.reduce_any(tf.not_equal(query_vectors, 0), axis=1, keepdims=True)


def _visit_starts(ages_s: tf.Tensor, mask: tf.Tensor, visit_gap_s: float):
    """Per step: did it open a visit (no step in view before it, or the one before is at
    least ``visit_gap_s`` older), and how many visits opened after it (0 = the latest)."""
    ages, before, has_before = _with_previous_step(ages_s, mask)
    opens = tf.logical_and(
        mask, tf.logical_or(tf.logical_not(has_before), before - ages >= visit_gap_s)
    )
    later_opens = tf.cumsum(tf.cast(opens, tf.int32), axis=1, exclusive=True, reverse=True)
    return opens, later_opens


VISITS_IN_VIEW = 8
"""Visits back that get their own pooling weight in ``visit_pooling``; older ones share the last."""


def visit_cells(ages_s: tf.Tensor, mask: tf.Tensor, visit_gap_s: float) -> tf.Tensor:
    """Each step's place in the user's visits, as one index in [0, 4 * VISITS_IN_VIEW).

    The index combines whether the user is away now (the last step is at least ``visit_gap_s``
    old, so this request opens a new visit), whether the step opened a visit (no step in view
    before it, or the one before is at least ``visit_gap_s`` older) and how many visits ago it
    happened (0 = the latest visit; capped). ``visit_pooling`` learns one weight per cell: a
    user who comes back after days is predicted by what opened their recent visits more than
    by the browsing that followed, and a user mid-visit by the current visit.
    """
    opens, later_opens = _visit_starts(ages_s, mask, visit_gap_s)
    visits_ago = tf.minimum(later_opens, VISITS_IN_VIEW - 1)
    away = tf.cast(opens_visit(ages_s, visit_gap_s), tf.int32)[:, None]
    return (away * 2 + tf.cast(opens, tf.int32)) * VISITS_IN_VIEW + visits_ago


def visit_slots(ages_s: tf.Tensor, mask: tf.Tensor, visit_gap_s: float, count: int) -> tf.Tensor:
    """[batch, length, count] one-hot: the step that opened the visit ``j`` visits ago (j <
    ``count``; 0 = the latest visit, the current one mid-visit) is 1 in column j."""
    opens, later_opens = _visit_starts(ages_s, mask, visit_gap_s)
    return tf.one_hot(tf.where(opens, later_opens, -1), count)  # -1 (no opener): all zeros


def visit_openers(
    item_vectors: tf.Tensor, ages_s: tf.Tensor, mask: tf.Tensor, visit_gap_s: float, count: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """The item that opened each of the last ``count`` visits: ([b, count, dim], [b, count] bool
    "that visit is in view"); slot 0 is the latest visit (the current one, mid-visit)."""
    pick = visit_slots(ages_s, mask, visit_gap_s, count)
    return tf.einsum("blk,bld->bkd", pick, item_vectors), tf.reduce_any(pick > 0, axis=1)


class BehaviourTower(tf.keras.layers.Layer):
    """SASRec-style encoder of the most recent interactions (most recent last).

    Each step adds its item vector, event-type, recency-bucket and position embeddings (and,
    with ``time_gaps``, the bucket of the time since the step before); causal attention over
    real (unpadded) steps. Returns every position's state: the last one is the summary, and
    the multi-interest heads attend over all of them.
    """

    def __init__(self, event_types: list[str], hp: Hyperparameters, **kwargs):
        super().__init__(**kwargs)
        self.hp = hp
        dim = hp.embedding_dim
        self.type_table = vocabulary_table(event_types, 1)
        self.type_embedding = tf.keras.layers.Embedding(len(event_types) + 1, dim)
        self.recency_embedding = tf.keras.layers.Embedding(len(fk.RECENCY_BOUNDARIES_S) + 1, dim)
        self.position_embedding = tf.keras.layers.Embedding(hp.history_length, dim)
        self.gap_embedding = (
            tf.keras.layers.Embedding(len(fk.RECENCY_BOUNDARIES_S) + 2, dim, name="gap_embedding")
            if hp.time_gaps
            else None
        )
        self.blocks = [_Block(dim, hp.num_heads, hp.dropout) for _ in range(hp.num_blocks)]
        self.norm = tf.keras.layers.LayerNormalization()
        self.drop = tf.keras.layers.Dropout(hp.dropout)

    def call(self, item_vectors, event_types, ages_s, mask, training: bool = False):
        length = self.hp.history_length
        buckets = tf.raw_ops.Bucketize(
            input=tf.cast(ages_s, tf.float32), boundaries=list(fk.RECENCY_BOUNDARIES_S)
        )
        x = (
            item_vectors
            + self.type_embedding(self.type_table.lookup(event_types))
            + self.recency_embedding(buckets)
            + self.position_embedding(tf.range(length))[None]
        )
        if self.gap_embedding is not None:
            x += self.gap_embedding(gap_buckets(ages_s, mask))
        real = tf.cast(mask, x.dtype)[..., None]
        x = self.drop(x * real, training=training)
        causal = tf.linalg.band_part(tf.ones([length, length], tf.bool), -1, 0)
        attend = tf.logical_and(causal[None], mask[:, None, :])
        for block in self.blocks:
            x = block(x, attend, training=training)
        return self.norm(x)


class UserTower(tf.keras.layers.Layer):
    """Mixes the behaviour summary, an optional query vector and an optional user-id embedding,
    plus (``long_term``) a projection of the mean of every history item vector; with
    ``visit_pooling`` that mean is weighted by a learned weight per visit cell (``visit_cells``).

    The user-id embedding is dropped for ``user_id_dropout`` of training examples (and is absent
    for an empty key), so users the model never saw are served from their history alone.
    Output: [batch, interests, dim]; row 0 is that mix, the others the history's extra
    interests (trainer/interests.py). With a query or an empty history every row is the mix:
    a search ranks by the query's intent, and there is nothing to cluster in no history.
    """

    def __init__(self, event_types: list[str], hp: Hyperparameters, **kwargs):
        super().__init__(**kwargs)
        self.hp = hp
        dim = hp.embedding_dim
        self.behaviour = BehaviourTower(event_types, hp)
        self.query_projection = tf.keras.layers.Dense(dim, name="query_projection")
        self.user_embedding = (
            tf.keras.layers.Embedding(hp.user_id_buckets, dim, name="user_embedding")
            if hp.use_user_id
            else None
        )
        self.long_term = (
            tf.keras.layers.Dense(
                dim, use_bias=False, kernel_initializer="identity", name="long_term_interest"
            )
            if hp.long_term
            else None
        )
        self.visit_weights = (
            tf.keras.layers.Embedding(
                4 * VISITS_IN_VIEW, 1, embeddings_initializer="zeros", name="visit_pooling"
            )
            if hp.visit_pooling
            else None
        )
        """Log-weight of each visit cell; zeros start as the plain mean."""
        self.interests = (
            InterestExtractor(hp.interests - 1, dim, name="interests") if hp.interests > 1 else None
        )
        self.visit_projection = self.visit_scale = None
        if hp.visit_interests:
            self.visit_projection = tf.keras.layers.Dense(
                dim, use_bias=False, kernel_initializer="identity", name="visit_interest"
            )
            self.visit_scale = tf.keras.layers.Embedding(
                2 * hp.visit_interests, 1, embeddings_initializer="zeros", name="visit_scale"
            )
            """Log-scale of each visit interest by (away now, visits ago); zeros = 1."""
        self.mix = tf.keras.Sequential(
            [tf.keras.layers.Dense(dim * 2, activation="gelu"), tf.keras.layers.Dense(dim)]
        )

    def call(self, history_vectors, event_types, ages_s, mask, query_vectors, user_keys,
             training: bool = False):  # fmt: skip
        has_history = tf.cast(tf.reduce_any(mask, axis=1, keepdims=True), tf.float32)
        query = tf.cast(has_query(query_vectors), tf.float32)
        states = self.behaviour(history_vectors, event_types, ages_s, mask, training)
        sequence = states[:, -1] * has_history
        parts = [sequence, self.query_projection(query_vectors) * query, has_history, query]
        if self.user_embedding is not None:
            buckets = tf.strings.to_hash_bucket_fast(user_keys, self.hp.user_id_buckets)
            known = tf.cast(user_keys != "", tf.float32)[:, None]
            if training and self.hp.user_id_dropout > 0:
                keep = tf.random.uniform(tf.shape(known)) >= self.hp.user_id_dropout
                known *= tf.cast(keep, tf.float32)
            parts.append(self.user_embedding(buckets) * known)
        user = sequence + self.mix(tf.concat(parts, axis=1))
        if self.long_term is not None:
            user += self.long_term(self._pool_history(history_vectors, ages_s, mask))
        own = tf.logical_and(has_history > 0, query == 0)[:, :, None]
        rows = [user[:, None]]
        if self.interests is not None:
            extra = self.interests(states, history_vectors, mask)
            rows.append(tf.where(own, extra, tf.broadcast_to(user[:, None], tf.shape(extra))))
        if self.visit_projection is not None:
            openers, present = visit_openers(
                history_vectors, ages_s, mask, self.hp.visit_gap_s, self.hp.visit_interests
            )
            present = tf.logical_and(present[..., None], own)
            rows.append(tf.where(present, self.visit_projection(openers), user[:, None]))
        return tf.concat(rows, axis=1) if len(rows) > 1 else rows[0]

    def interest_scales(self, ages_s, mask, query_vectors, count: int) -> tf.Tensor:
        """[batch, count] factors for the unit interest vectors: 1, and for each visit interest
        (the last ones) that has its own vector a learned one per (away now, visits ago),
        which sets how far a visit's opener reaches into the top k beside the main vector."""
        batch = tf.shape(ages_s)[0]
        if self.visit_scale is None:
            return tf.ones([batch, count])
        n = self.hp.visit_interests
        away = tf.cast(opens_visit(ages_s, self.hp.visit_gap_s), tf.int32)[:, None]
        learned = tf.exp(self.visit_scale(away * n + tf.range(n)[None])[..., 0])
        present = tf.reduce_any(visit_slots(ages_s, mask, self.hp.visit_gap_s, n) > 0, axis=1)
        # The same rule as ``call``'s: a slot without its own opener is a copy of the main
        # vector, and stays as it is.
        visit = tf.where(tf.logical_and(present, ~has_query(query_vectors)), learned, 1.0)
        return tf.concat([tf.ones([batch, count - n]), visit], axis=1)

    def _pool_history(self, history_vectors, ages_s, mask) -> tf.Tensor:
        """Weighted mean of the real history steps (plain, or by visit cell); 0 for none."""
        weights = tf.cast(mask, history_vectors.dtype)[..., None]
        if self.visit_weights is not None:
            cells = visit_cells(ages_s, mask, self.hp.visit_gap_s)
            weights *= tf.exp(self.visit_weights(cells))
        total = tf.reduce_sum(weights, 1)
        return tf.reduce_sum(history_vectors * weights, 1) / tf.maximum(total, 1e-9)
