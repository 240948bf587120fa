"""The two-tower retrieval model (TFRS): user tower over fresh history, item tower over id + text.

Following TFRS's "model = towers + task" design, the model implements only ``compute_loss``;
serving top-K is built after training (``trainer/signatures.py``). Two objectives:
``full_catalog`` (softmax over every catalog item; many negatives matter for sequential
recommenders) and ``in_batch`` (TFRS ``Retrieval`` with logQ correction and accidental-hit
removal, for catalogs too large to score each step). An optional ranking head predicts the
target's event weight (multi-task). With ``content_tuning='top_layers'`` an extra in-batch
softmax through the tuned BERT layers trains them (``trainer/content_tuning.py``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from trainer import features as fk
from trainer.affinity import CategoryAffinity, WordAffinity
from trainer.bert import BertTextEncoder
from trainer.catalog import Catalog
from trainer.content_tuning import TopLayerCache
from trainer.hparams import Hyperparameters
from trainer.interests import best_interest, max_scores
from trainer.towers import ItemTower, UserTower, has_query, opens_visit, visit_cells

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
    """Two towers over a fixed catalog; ``user_vectors`` reads raw history features."""

    def __init__(
        self,
        catalog: Catalog,
        vocab: list[str],
        event_types: list[str],
        hp: Hyperparameters,
        queries: list[str] | None = None,
        query_vectors: np.ndarray | None = None,
        encoder: BertTextEncoder | None = None,
    ):
        """``encoder`` is needed (and only used) with ``content_tuning='top_layers'``."""
        super().__init__()
        self.hp = hp.validate()
        self.catalog = catalog
        self.item_tower = ItemTower(catalog.ids, catalog.content, vocab, hp)
        self.user_tower = UserTower(event_types, hp)
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
        self.category_affinity = (
            CategoryAffinity(catalog.categories, hp.temperature) if hp.category_affinity else None
        )
        self.word_affinity = (
            WordAffinity(catalog.texts, hp.temperature) if hp.word_affinity else None
        )
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
            self.text_cache = TopLayerCache(encoder, catalog.texts + list(queries or []),
                                            hp.top_layers)  # fmt: skip
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
    def interest_count(self) -> int:
        """Vectors per user: the main one, attention interests, visit interests."""
        return self.hp.interests + self.hp.visit_interests

    @property
    def vector_dim(self) -> int:
        """Width of served user and item vectors: the towers', one more with item_bias, then
        the affinity columns."""
        extra = sum(layer.width for layer in self.affinities)
        return self.hp.embedding_dim + (1 if self.hp.item_bias else 0) + extra

    @property
    def affinities(self) -> list:
        """The affinity layers in use, in column order."""
        return [a for a in (self.category_affinity, self.word_affinity) if a is not None]

    def finish_item_vectors(
        self,
        vectors: tf.Tensor,
        item_ids: tf.Tensor,
        categories: tf.Tensor | None = None,
        texts: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """Tower output -> served item vector: L2-normalized, then the bias column if any, then
        the affinity columns if any: from the catalog row of each id (unknown ids: no category,
        no word), or from ``categories`` cells and ``texts`` when given (a new item)."""
        parts = [tf.math.l2_normalize(vectors, axis=-1)]
        if self.hp.item_bias:
            parts.append(self.item_tower.bias(item_ids)[..., None])
        rows = self.catalog_rows.lookup(item_ids)
        if self.category_affinity is not None:
            parts.append(
                self.category_affinity.item_columns(rows)
                if categories is None
                else self.category_affinity.columns_for_names(categories)
            )
        if self.word_affinity is not None:
            parts.append(
                self.word_affinity.item_columns(rows)
                if texts is None
                else self.word_affinity.columns_for_texts(texts)
            )
        return tf.concat(parts, axis=-1) if len(parts) > 1 else parts[0]

    def item_vectors(
        self, item_ids: tf.Tensor, training: bool = False, live: bool = False
    ) -> tf.Tensor:
        """Item vectors for raw ids (unknown ids: zero id part, zero text, zero bias).

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
        blend: bool = True,
    ) -> tf.Tensor:
        """Served user vectors [batch, interests, vector_dim] from raw history features (see
        trainer/features.py): the L2-normalized tower output (visit interests then scaled by
        their learned factors), plus the temperature column that meets the item bias and the
        affinity columns (zero for a search). An item's score is its best interest's
        (``interests.max_scores``).
        ``blend`` adds the ``history_blend`` term (ranking only; the loss asks without it).
        """
        history = features[fk.HISTORY_ITEM_IDS]
        mask = tf.not_equal(history, fk.PAD_ITEM)
        if query_vectors is None:
            query_vectors = self.query_lookup(features[fk.QUERY])
        history_vectors = self.item_tower(history, training=training)
        user = self.user_tower(
            history_vectors,
            features[fk.HISTORY_EVENT_TYPES],
            features[fk.HISTORY_AGES_S],
            mask,
            query_vectors,
            features[fk.USER_KEY],
            training=training,
        )
        user = tf.math.l2_normalize(user, axis=-1)
        if self.hp.visit_interests:
            ages = features[fk.HISTORY_AGES_S]
            scales = self.user_tower.interest_scales(ages, mask, query_vectors, self.interest_count)
            user *= scales[..., None]
        if blend and self.hp.history_blend > 0:
            user += (
                self.hp.history_blend
                * self._history_direction(history_vectors, mask, query_vectors)[:, None]
            )
        parts = [user]
        shape = [tf.shape(user)[0], tf.shape(user)[1]]
        if self.hp.item_bias:
            # user . item = u . v + temperature * bias: logits / temperature add the bias as is.
            parts.append(tf.fill([*shape, 1], tf.constant(self.hp.temperature, user.dtype)))
        if self.affinities:
            rows = self.catalog_rows.lookup(history)
            cells = visit_cells(features[fk.HISTORY_AGES_S], mask, self.hp.visit_gap_s)
            # A search follows its query: the history's category and word mix steps back.
            browsing = tf.cast(~has_query(query_vectors), user.dtype)
            for layer in self.affinities:
                columns = layer.user_columns(rows, cells, mask) * browsing
                parts.append(tf.broadcast_to(columns[:, None], [*shape, layer.width]))
        return tf.concat(parts, axis=-1) if len(parts) > 1 else user

    @staticmethod
    def _history_direction(history_vectors, mask, query_vectors) -> tf.Tensor:
        """Unit mean of the history's unit item vectors (0 with no history or with a query).

        Added to every interest, it adds ``history_blend x cos(that mean, item)`` to each score:
        an item-to-history similarity over the learned item vectors (ItemKNN-like), which keeps
        the user's recurring interests in view where vectors trained on the next click look
        at the current session. Off for search, which follows the query.
        """
        real = tf.cast(mask, history_vectors.dtype)[..., None]
        unit = tf.math.l2_normalize(history_vectors, axis=-1) * real
        direction = tf.math.l2_normalize(tf.reduce_sum(unit, axis=1), axis=-1)
        return direction * tf.cast(~has_query(query_vectors), direction.dtype)

    def _update_batch_metrics(self, users, items, targets) -> None:
        """In-batch top-K accuracy; another example with the same target is not a miss."""
        scores = max_scores(users, items)
        labels = tf.eye(tf.shape(scores)[0])
        scores = tfrs.layers.loss.RemoveAccidentalHits()(labels, scores, targets)
        for metric in self.batch_metrics:
            metric.update_state(labels, scores)

    def _in_batch_loss(self, users, items, targets) -> tf.Tensor:
        """TFRS in-batch softmax with logQ correction and accidental-hit removal.

        ``Retrieval`` takes one query vector per example: each target meets the user's
        interest nearest to it (MIND's label-aware selection).
        """
        rows = tf.maximum(self.catalog_rows.lookup(targets), 0)
        return self.retrieval(
            best_interest(users, items),
            items,
            candidate_sampling_probability=(
                tf.exp(tf.gather(self.log_q, rows)) if self.hp.logq_correction else None
            ),
            candidate_ids=targets,
            compute_metrics=False,
        )

    def _full_catalog_loss(self, users, catalog, features) -> tf.Tensor:
        """Softmax over the whole catalog for the next item (+ ``future_weight`` x later items).

        With several user vectors each has its own softmax over the catalog, and a max over
        them in one softmax would push every other interest down on this target's negatives,
        which include the items of the user's other interests, and collapse them. So either
        (``interest_training='mixture'``, the default) the target's probability is the mean of
        the interests' softmax probabilities (a mixture of softmaxes: every interest learns in
        proportion to how well it explains the target, so the main vector keeps learning the
        next click while a visit's opener learns what that visit leads to), or (``'best'``,
        MIND / ComiRec label-aware training) only the interest nearest to the target trains.
        (Measured on the sample world with 3 visit interests: 'best' let the openers take
        most targets and next click collapsed, NDCG@10 0.060; the mixture, see the README.
        With 4 attention interests + future objective, reserving interest 0 for the next item
        was worse than 'best' on both protocols, 0.132 vs 0.179 next-item and 0.058 vs 0.061
        temporal.) With ``exclude_history`` the softmax leaves out the
        example's history items and targets among them are not trained on, as served rankings
        exclude history; ``visit_start_weight`` weighs the examples whose target opens a visit.
        """
        labels = self.catalog_rows.lookup(features[fk.TARGET_ITEM_ID])
        rows = labels[:, None]
        use_future = self.hp.future_weight > 0 and fk.FUTURE_ITEM_IDS in features
        if use_future:
            rows = tf.concat([rows, self.catalog_rows.lookup(features[fk.FUTURE_ITEM_IDS])], 1)
        scores = tf.einsum("bkd,nd->bkn", users, catalog)
        allowed = self.trainable_candidates[None, :]
        safe = tf.maximum(rows, 0)
        valid = rows >= 0
        if self.hp.exclude_history:
            seen = self._history_rows(features[fk.HISTORY_ITEM_IDS])
            allowed = tf.logical_and(allowed, tf.logical_not(seen))
            valid = tf.logical_and(valid, tf.logical_not(tf.gather(seen, safe, batch_dims=1)))
        candidates = tf.logical_or(
            allowed, tf.one_hot(labels, self.catalog.size, on_value=True, off_value=False)
        )
        logits = tf.where(candidates[:, None, :], scores, -1e9) / self.hp.temperature
        picked = tf.gather(tf.nn.log_softmax(logits, axis=-1), safe, axis=2, batch_dims=1)
        if self.hp.interest_training == "mixture":
            count = tf.cast(tf.shape(users)[1], picked.dtype)
            nll = tf.math.log(count) - tf.reduce_logsumexp(picked, axis=1)
        else:
            choice = tf.argmax(tf.gather(scores, safe, axis=2, batch_dims=1), axis=1)
            nll = -tf.reduce_sum(picked * tf.one_hot(choice, tf.shape(users)[1], axis=1), axis=1)
        weight = tf.cast(valid, tf.float32)
        if self.hp.visit_start_weight != 1.0:
            weight *= self._visit_start_weights(features[fk.HISTORY_AGES_S])[:, None]
        loss = _weighted_mean(nll[:, 0], weight[:, 0])
        if use_future:
            loss += self.hp.future_weight * _weighted_mean(nll[:, 1:], weight[:, 1:])
        return loss

    def _visit_start_weights(self, ages_s: tf.Tensor) -> tf.Tensor:
        """``visit_start_weight`` for examples whose target opens a visit, else 1."""
        opens = opens_visit(ages_s, self.hp.visit_gap_s)
        return tf.where(opens, self.hp.visit_start_weight, 1.0)

    def _history_rows(self, history_ids: tf.Tensor) -> tf.Tensor:
        """[batch, catalog] mask of the catalog rows in each example's history."""
        rows = self.catalog_rows.lookup(history_ids)
        example = tf.broadcast_to(tf.range(tf.shape(rows, tf.int64)[0])[:, None], tf.shape(rows))
        at = tf.boolean_mask(tf.stack([example, rows], axis=-1), rows >= 0)
        shape = tf.stack([tf.shape(rows, tf.int64)[0], self.catalog.size])
        hits = tf.scatter_nd(at, tf.ones(tf.shape(at)[:1]), shape)
        return hits > 0

    def compute_loss(self, features: dict, training: bool = False) -> tf.Tensor:
        users = self.user_vectors(features, training=training, blend=False)
        targets = features[fk.TARGET_ITEM_ID]
        if self.hp.negatives == "full_catalog":
            catalog = self.catalog_vectors(training)
            labels = self.catalog_rows.lookup(targets)
            self._update_batch_metrics(users, tf.gather(catalog, tf.maximum(labels, 0)), targets)
            loss = self._full_catalog_loss(users, catalog, features)
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
            user = best_interest(users, items)
            predicted = self.ranking_head(tf.concat([user, items, user * items], axis=1))
            weight = tf.reshape(features[fk.TARGET_WEIGHT], [-1, 1])
            loss += self.hp.ranking_weight * self.ranking(weight, predicted)
        return loss


def _weighted_mean(values: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
    """Weighted mean of ``values`` (0 when every weight is 0: a batch with nothing to learn)."""
    return tf.reduce_sum(values * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)
