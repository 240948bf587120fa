"""The two-tower retrieval model (TFRS): user tower over fresh history, item tower over id + text.

Following TFRS's "model = towers + task" design, the model implements only ``compute_loss``;
serving top-K is built after training (``trainer/signatures.py``). Two objectives:
``full_catalog`` (a softmax over every catalog item; many negatives matter for sequential
recommenders) and ``in_batch`` (TFRS ``Retrieval`` with logQ correction and accidental-hit
removal, for catalogs too large to score at every step). An optional ranking head predicts the
target's event weight (multi-task). With ``content_tuning='top_layers'`` an extra in-batch
softmax through the tuned BERT layers trains them (``trainer/content_tuning.py``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from rtrec import features as fk
from rtrec.hparams import Hyperparameters
from trainer.affinity import CategoryAffinity, WordAffinity
from trainer.bert import BertTextEncoder
from trainer.catalog import Catalog
from trainer.content_tuning import TopLayerCache
from trainer.towers import ItemTower, UserTower, has_query
from trainer.visits import visit_cells

BATCH_METRIC_KS = (1, 10)


class QueryVectors(tf.keras.layers.Layer):
    """Query text -> precomputed frozen-BERT vector (zeros for '' or unseen text) for training."""

    def __init__(self, queries: list[str], vectors: np.ndarray, text_dim: int, **kwargs):
        super().__init__(**kwargs)
        init = tf.lookup.KeyValueTensorInitializer(
            tf.constant(queries or ["\x00"], tf.string),
            tf.range(max(len(queries), 1), dtype=tf.int64),
        )
        self.rows = tf.lookup.StaticHashTable(init, default_value=-1)
        table = np.zeros((max(len(queries), 1) + 1, text_dim), np.float32)
        if queries:
            table[1:] = vectors
        self.table = tf.Variable(table, trainable=False, name="query_vectors")

    def call(self, queries: tf.Tensor) -> tf.Tensor:
        return tf.gather(self.table, self.rows.lookup(queries) + 1)


class RtrecModel(tfrs.Model):
    """Two towers over a fixed catalog; ``user_vectors`` reads the user-feature dict."""

    def __init__(
        self,
        catalog: Catalog,
        vocab: list[str],
        event_types: list[str],
        hp: Hyperparameters,
        session_gap_s: float,
        queries: list[str] | None = None,
        query_vectors: np.ndarray | None = None,
        encoder: BertTextEncoder | None = None,
    ):
        """``session_gap_s`` is the ingestion's (what ends a visit); ``encoder`` is needed
        (and only used) with ``content_tuning='top_layers'``."""
        super().__init__()
        self.hp = hp.validate()
        self.catalog = catalog
        self.session_gap_s = float(session_gap_s)
        self.item_tower = ItemTower(
            catalog.ids, catalog.content, vocab,
            embedding_dim=hp.embedding_dim, oov_buckets=hp.item_oov_buckets,
            adapter_dim=hp.adapter_dim if hp.content_tuning == "adapter" else None,
            id_dropout=hp.id_dropout,
        )  # fmt: skip
        self.user_tower = UserTower(
            event_types,
            embedding_dim=hp.embedding_dim, history_length=hp.history_length,
            num_blocks=hp.num_blocks, num_heads=hp.num_heads, dropout=hp.dropout,
            long_term=hp.long_term, visit_pooling=hp.visit_pooling,
            user_id_buckets=hp.user_id_buckets if hp.use_user_id else None,
            user_id_dropout=hp.user_id_dropout,
        )  # fmt: skip
        self.query_lookup = QueryVectors(
            list(queries or []),
            query_vectors if query_vectors is not None else np.zeros((0, catalog.text_dim)),
            catalog.text_dim,
        )
        self.catalog_ids = tf.constant(catalog.ids, tf.string)
        rows = tf.lookup.KeyValueTensorInitializer(
            self.catalog_ids, tf.range(catalog.size, dtype=tf.int64)
        )
        self.catalog_rows = tf.lookup.StaticHashTable(rows, default_value=-1)
        self.log_q = tf.constant(np.log(catalog.sampling_probability()), tf.float32)
        # Items with no training interaction did not exist (or were unseen) at training time:
        # as eternal negatives the softmax would learn to bury them, and cold start would fail.
        self.trainable_candidates = tf.constant(catalog.train_counts > 0)
        # Extra served columns (trainer/affinity.py): the user's recent category / word mix.
        self.affinities = []
        if hp.category_affinity:
            self.affinities.append(CategoryAffinity(catalog.categories, hp.temperature))
        if hp.word_affinity:
            self.affinities.append(WordAffinity(catalog.texts, hp.temperature))
        # In-batch top-K accuracy (each user vs the batch's targets), logged per step and epoch
        # in TensorBoard: cheap and familiar, though flattering beside full-catalog metrics.
        self.batch_metrics = [
            tf.keras.metrics.TopKCategoricalAccuracy(k, name=f"in_batch_top{k}")
            for k in BATCH_METRIC_KS
        ]
        self.retrieval = tfrs.tasks.Retrieval(
            # Mean over the batch (TFRS sums), so it adds to the full-catalog loss on one scale.
            loss=tf.keras.losses.CategoricalCrossentropy(
                from_logits=True, reduction=tf.keras.losses.Reduction.SUM_OVER_BATCH_SIZE
            ),
            temperature=hp.temperature,
            remove_accidental_hits=True,
            name="retrieval",
        )
        self.ranking_head = None
        if hp.ranking_weight > 0:
            self.ranking_head = tf.keras.Sequential(
                [
                    tf.keras.layers.Dense(hp.embedding_dim, activation="gelu"),
                    tf.keras.layers.Dense(1),
                ]  # fmt: skip
            )
            self.ranking = tfrs.tasks.Ranking(loss=tf.keras.losses.MeanSquaredError())
        self.text_cache = None
        if hp.content_tuning == "top_layers":
            if encoder is None:
                raise ValueError("content_tuning='top_layers' needs the BertTextEncoder to tune")
            texts = catalog.texts + list(queries or [])
            self.text_cache = TopLayerCache(encoder, texts, hp.top_layers)
            self.item_tower.tuned_text = self.text_cache
            self.refresh_text_vectors()

    def refresh_text_vectors(self) -> None:
        """Rebuild the item and query text tables through the tuned top layers (top_layers only).

        Called after every epoch and before export, so evaluation, negatives and the served
        index all see the current text encoder.
        """
        if self.text_cache is None:
            return
        vectors = self.text_cache.all_vectors()
        n = self.catalog.size
        self.item_tower.content.assign(np.concatenate([vectors[:n], vectors[-1:]]))
        queries = vectors[n:-1]
        if len(queries):
            self.query_lookup.table.assign(np.concatenate([vectors[-1:], queries]))

    @property
    def vector_dim(self) -> int:
        """Width of served user and item vectors: the towers', then the affinity columns."""
        return self.hp.embedding_dim + sum(layer.width for layer in self.affinities)

    def finish_item_vectors(
        self,
        vectors: tf.Tensor,
        item_ids: tf.Tensor,
        categories: tf.Tensor | None = None,
        texts: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """Tower output -> served item vector: L2-normalized, then the affinity columns if any:
        from the catalog row of each id (unknown ids: no category, no word), or from
        ``categories`` cells and ``texts`` when given (a new item)."""
        parts = [tf.math.l2_normalize(vectors, axis=-1)]
        rows = self.catalog_rows.lookup(item_ids)
        for layer in self.affinities:
            if isinstance(layer, CategoryAffinity):
                given = None if categories is None else layer.columns_for_names(categories)
            else:
                given = None if texts is None else layer.columns_for_texts(texts)
            parts.append(layer.item_columns(rows) if given is None else given)
        return tf.concat(parts, axis=-1) if len(parts) > 1 else parts[0]

    def item_vectors(
        self, item_ids: tf.Tensor, training: bool = False, live: bool = False
    ) -> tf.Tensor:
        """Served vectors for raw ids (unknown ids: zero id part, zero text).

        ``live`` (top_layers only) runs the tuned BERT layers so the gradient reaches them.
        """
        vectors = self.item_tower(item_ids, training=training, live=live)
        return self.finish_item_vectors(vectors, item_ids)

    def catalog_vectors(self, training: bool = False) -> tf.Tensor:
        """Vectors of every catalog item, row i for catalog.ids[i]."""
        return self.item_vectors(self.catalog_ids, training=training)

    def user_vectors(
        self,
        features: dict,
        training: bool = False,
        query_vectors: tf.Tensor | None = None,
        history_vectors: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """Served user vectors [batch, vector_dim] from ``rtrec.features.USER_FEATURES``: the
        L2-normalized tower output, then the affinity columns (zero for a search).
        ``query_vectors`` replaces the training lookup of ``QUERY`` (serving encodes the query
        text in the graph); ``history_vectors``
        the item tower's output for the history (serving looks it up in a table built at
        export, which is the same vectors for a fraction of the work)."""
        history = features[fk.HISTORY_ITEM_IDS]
        mask = tf.not_equal(history, fk.PAD_ITEM)
        if query_vectors is None:
            query_vectors = self.query_lookup(features[fk.QUERY])
        if history_vectors is None:
            history_vectors = self.item_tower(history, training=training)
        cells = visit_cells(features[fk.HISTORY_AGES_S], mask, self.session_gap_s)
        inputs = {**features, fk.QUERY_VECTOR: query_vectors}
        user = tf.math.l2_normalize(
            self.user_tower(inputs, history_vectors, cells, training=training), axis=-1
        )
        parts = [user]
        if self.affinities:
            rows = self.catalog_rows.lookup(history)
            # A search follows its query: the history's category and word mix steps back.
            browsing = tf.cast(~has_query(query_vectors), user.dtype)
            parts += [layer.user_columns(rows, cells, mask) * browsing for layer in self.affinities]
        return tf.concat(parts, axis=-1) if len(parts) > 1 else user

    def _update_batch_metrics(self, users, items, targets) -> None:
        """In-batch top-K accuracy; another example with the same target is not a miss."""
        scores = tf.matmul(users, items, transpose_b=True)
        labels = tf.eye(tf.shape(scores)[0])
        scores = tfrs.layers.loss.RemoveAccidentalHits()(labels, scores, targets)
        for metric in self.batch_metrics:
            metric.update_state(labels, scores)

    def _in_batch_loss(self, users, items, targets) -> tf.Tensor:
        """TFRS in-batch softmax with logQ correction and accidental-hit removal."""
        rows = tf.maximum(self.catalog_rows.lookup(targets), 0)
        return self.retrieval(
            users,
            items,
            candidate_sampling_probability=(
                tf.exp(tf.gather(self.log_q, rows)) if self.hp.logq_correction else None
            ),
            candidate_ids=targets,
            compute_metrics=False,
        )

    def _full_catalog_loss(self, users, catalog, targets) -> tf.Tensor:
        """Softmax over the catalog's trainable candidates (and the target) for the next item;
        a target outside the catalog has nothing to learn and weighs 0."""
        labels = self.catalog_rows.lookup(targets)
        candidates = tf.logical_or(
            self.trainable_candidates[None, :],
            tf.one_hot(labels, self.catalog.size, on_value=True, off_value=False),
        )
        scores = tf.matmul(users, catalog, transpose_b=True)
        logits = tf.where(candidates, scores, -1e9) / self.hp.temperature
        safe = tf.maximum(labels, 0)
        nll = -tf.gather(tf.nn.log_softmax(logits, axis=-1), safe[:, None], batch_dims=1)[:, 0]
        weight = tf.cast(labels >= 0, tf.float32)
        return tf.reduce_sum(nll * weight) / tf.maximum(tf.reduce_sum(weight), 1.0)

    def compute_loss(self, features: dict, training: bool = False) -> tf.Tensor:
        users = self.user_vectors(features, training=training)
        targets = features[fk.TARGET_ITEM_ID]
        if self.hp.negatives == "full_catalog":
            catalog = self.catalog_vectors(training)
            rows = tf.maximum(self.catalog_rows.lookup(targets), 0)
            self._update_batch_metrics(users, tf.gather(catalog, rows), targets)
            loss = self._full_catalog_loss(users, catalog, targets)
            if self.text_cache is not None:
                # The catalog columns above come from the refreshed table (no gradient into
                # BERT); the tuned layers learn from an in-batch softmax where positives and
                # negatives both run through them, so they cannot drift away from a stale
                # table to game the loss.
                live = self.item_vectors(targets, training=training, live=True)
                loss += self._in_batch_loss(users, live, targets)
        else:
            items = self.item_vectors(targets, training=training, live=True)
            loss = self._in_batch_loss(users, items, targets)
            self._update_batch_metrics(users, items, targets)
        if self.ranking_head is not None:
            items = self.item_vectors(targets, training=training)
            predicted = self.ranking_head(tf.concat([users, items, users * items], axis=1))
            weight = tf.reshape(features[fk.TARGET_WEIGHT], [-1, 1])
            loss += self.hp.ranking_weight * self.ranking(weight, predicted)
        return loss
