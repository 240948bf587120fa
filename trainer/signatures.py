"""Serving export: one SavedModel with recommend, search, score and the vectors behind them.

Built after training, apart from the training model (the TFRS pattern): an exact brute-force
index over the whole catalog (``trainer/index.py``: the tower part dense, the affinity columns
sparse; core TF ops only, stock TF Serving has no ScaNN ops) and the BERT text
encoder with in-graph TF Text tokenization for new items and search queries. History arrives
raw (item ids, event types, Unix timestamps), so a request carries the user's latest clicks and
the recommendations follow them without retraining. Every signature builds the towers' input
with ``trainer.inputs.user_features``, as training does. Conventions: histories are [batch, any
length], most recent last, padded with '' (longer ones keep the most recent ``history_length``);
``now`` = 0 means the server clock. Malformed requests fail with an InvalidArgument error that
names the input (TF Serving answers 400 with that message): misaligned histories, batch sizes
that differ, ``k`` outside [1, MAX_K], more than MAX_EXCLUDE exclusions, future timestamps.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from rtrec import features as fk
from trainer import inputs
from trainer.bert import BertTextEncoder
from trainer.index import CatalogIndex
from trainer.model import RtrecModel
from trainer.warmup import write_warmup_requests

_HISTORY = [
    tf.TensorSpec([None, None], tf.string, name=fk.HISTORY_ITEM_IDS),
    tf.TensorSpec([None, None], tf.string, name=fk.HISTORY_EVENT_TYPES),
    tf.TensorSpec([None, None], tf.int64, name=fk.HISTORY_TIMESTAMPS),
]
_USER = tf.TensorSpec([None], tf.string, name=fk.USER_KEY)
_NOW = tf.TensorSpec([None], tf.int64, name=fk.NOW)
_K = tf.TensorSpec([], tf.int32, name=fk.K)
_QUERY = tf.TensorSpec([None], tf.string, name=fk.QUERY)
UNKNOWN_SCORE = float(np.finfo(np.float32).min)
UNKNOWN_ID = "\x00"
"""An id no catalog holds (parsed text never contains NUL): its tower output is what the model
gives any id outside its catalog."""
"""``score`` of a candidate id the model's catalog does not hold: below every real item."""


class ServingModule(tf.Module):
    """The exported object: trained towers, the catalog index and the text encoder."""

    def __init__(self, model: RtrecModel, encoder: BertTextEncoder):
        super().__init__()
        self.model = model
        self.encoder = encoder
        self.length = model.hp.history_length
        self.index = CatalogIndex(
            model.catalog_vectors().numpy(), np.array(model.catalog.ids),
            dense_width=model.hp.embedding_dim,
        )  # fmt: skip
        # The item tower's output for every catalog item and, last, for an id it does not know:
        # a request's history is a lookup instead of the text adapter and projection per step.
        towers = model.item_tower(tf.concat([model.catalog_ids, [UNKNOWN_ID]], 0))
        self.history_table = tf.Variable(towers, trainable=False, name="history_table")

    def _features(self, ids, types, timestamps, user_key, now, query) -> dict:
        """Validated request -> the towers' user features (``trainer.inputs``)."""
        # The declared [batch, length] shapes are not enforced at run time (nor by TF
        # Serving): a 1-D history would fail deep in the graph without this.
        ids, types, timestamps = (
            tf.ensure_shape(x, [None, None]) for x in (ids, types, timestamps)
        )
        types = inputs.check_same_shape(fk.HISTORY_EVENT_TYPES, types, ids, fk.HISTORY_ITEM_IDS)
        timestamps = inputs.check_same_shape(
            fk.HISTORY_TIMESTAMPS, timestamps, ids, fk.HISTORY_ITEM_IDS
        )
        user_key = inputs.check_batch(fk.USER_KEY, user_key, ids, fk.HISTORY_ITEM_IDS)
        now = inputs.check_batch(fk.NOW, now, ids, fk.HISTORY_ITEM_IDS)
        query = inputs.check_batch(fk.QUERY, query, ids, fk.HISTORY_ITEM_IDS)
        ages = inputs.request_ages(timestamps, ids, now)
        return inputs.user_features(ids, types, ages, user_key, query, self.length)

    def _users(self, features: dict, query: tf.Tensor | None = None) -> tf.Tensor:
        """User vectors; ``query`` text is encoded in the graph ('' or None: no query)."""
        batch = tf.shape(features[fk.USER_KEY])[0]
        if query is None:
            vectors = tf.zeros([batch, self.model.catalog.text_dim])
        else:
            # BERT runs only when some row has a query (user_vectors for a recommendation
            # passes '' and must not pay for the encoder).
            zeros = tf.zeros([batch, self.model.catalog.text_dim])
            none = tf.equal(tf.strings.length(query), 0)
            encoded = tf.cond(
                tf.reduce_all(none),
                lambda: zeros,
                lambda: tf.reshape(self.encoder(query), tf.shape(zeros)),
            )
            vectors = tf.where(none[:, None], zeros, encoded)
        rows = self.model.catalog_rows.lookup(features[fk.HISTORY_ITEM_IDS])
        unknown = tf.cast(self.model.catalog.size, rows.dtype)
        history = tf.gather(self.history_table, tf.where(rows < 0, unknown, rows))
        return self.model.user_vectors(
            features, training=False, query_vectors=vectors, history_vectors=history
        )

    def _top_k(self, users, features, exclude_ids, k) -> dict:
        k = inputs.checked((k >= 1) & (k <= fk.MAX_K), f"k must be in [1, {fk.MAX_K}]", k)
        exclude_ids = inputs.check_batch(
            fk.EXCLUDE_ITEM_IDS, tf.ensure_shape(exclude_ids, [None, None]), users,
            fk.HISTORY_ITEM_IDS,
        )  # fmt: skip
        exclude_ids = inputs.checked(
            tf.shape(exclude_ids)[1] <= fk.MAX_EXCLUDE,
            f"at most {fk.MAX_EXCLUDE} exclude_item_ids per request",
            exclude_ids,
        )
        exclude = tf.concat([features[fk.HISTORY_ITEM_IDS], exclude_ids], 1)
        top_ids, top_scores = self.index.top_k(users, self.model.catalog_rows.lookup(exclude), k)
        return {"item_ids": top_ids, "scores": top_scores}

    @tf.function(
        input_signature=[
            *_HISTORY,
            _USER,
            tf.TensorSpec([None, None], tf.string, name=fk.EXCLUDE_ITEM_IDS),
            _K,
            _NOW,
        ]  # fmt: skip
    )
    def recommend(self, history_item_ids, history_event_types, history_timestamps, user_key,
                  exclude_item_ids, k, now):  # fmt: skip
        """Top-k catalog items for fresh histories, history and ``exclude_item_ids`` removed."""
        empty = tf.fill(tf.shape(user_key), "")
        features = self._features(
            history_item_ids, history_event_types, history_timestamps, user_key, now, empty
        )
        return self._top_k(self._users(features), features, exclude_item_ids, k)

    @tf.function(input_signature=_HISTORY)
    def recommend_history(self, history_item_ids, history_event_types, history_timestamps):
        """The simplest call (the default signature): a history only, top 10, server clock."""
        batch = tf.shape(history_item_ids)[0]
        return self.recommend(
            history_item_ids, history_event_types, history_timestamps, tf.fill([batch], ""),
            tf.fill([batch, 1], ""), tf.constant(10), tf.zeros([batch], tf.int64),
        )  # fmt: skip

    @tf.function(input_signature=[_QUERY, *_HISTORY, _USER, _K, _NOW])
    def search(self, query, history_item_ids, history_event_types, history_timestamps,
               user_key, k, now):  # fmt: skip
        """Personalized search: the query text (BERT in the graph) combined with the history."""
        features = self._features(
            history_item_ids, history_event_types, history_timestamps, user_key, now, query
        )
        empty = tf.fill([tf.shape(query)[0], 1], "")
        return self._top_k(self._users(features, query), features, empty, k)

    @tf.function(input_signature=[_QUERY, *_HISTORY, _USER, _NOW])
    def user_vectors(self, query, history_item_ids, history_event_types, history_timestamps,
                     user_key, now):  # fmt: skip
        """The vectors the index is queried with ('' query: a recommendation): a caller scores
        items of its own (``embed_items``) exactly as the model scores its catalog."""
        features = self._features(
            history_item_ids, history_event_types, history_timestamps, user_key, now, query
        )
        return {"user_vectors": self._users(features, query)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def evaluate_examples(self, examples):
        """Top MAX_K for serialized eval tf.Examples (what TFMA's Evaluator feeds the model).

        Ages are the ones recorded in the example (relative to its target), so offline
        evaluation sees exactly what training saw; the history is excluded as in serving.
        """
        features = inputs.example_features(examples, self.length)
        users = self.model.user_vectors(features, training=False)
        empty = tf.fill([tf.shape(examples)[0], 1], "")
        return self._top_k(users, features, empty, tf.constant(fk.MAX_K))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string, name=fk.ITEM_IDS),
            tf.TensorSpec([None], tf.string, name=fk.TEXTS),
            tf.TensorSpec([None], tf.string, name=fk.CATEGORIES),
        ]
    )
    def embed_items(self, item_ids, texts, categories):
        """Item vectors from id + text + category cell ("A|B", "" for none): how a new item is
        indexed without retraining (the cell and the text also give its affinity columns)."""
        texts = inputs.check_batch(fk.TEXTS, texts, item_ids, fk.ITEM_IDS)
        categories = inputs.check_batch(fk.CATEGORIES, categories, item_ids, fk.ITEM_IDS)
        tower = self.model.item_tower
        vectors = tower.text_part(self.encoder(texts)) + tower.id_part(item_ids)
        finished = self.model.finish_item_vectors(vectors, item_ids, categories, texts)
        return {"embeddings": finished}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=fk.ITEM_IDS)])
    def item_vectors(self, item_ids):
        """The served vectors of catalog items (what the index holds) and whether each id is in
        the model's catalog: a caller checks ids, explains and diversifies with them."""
        known = self.model.catalog_rows.lookup(item_ids) >= 0
        return {"item_vectors": self.model.item_vectors(item_ids), "known": known}

    @tf.function(
        input_signature=[
            *_HISTORY,
            _USER,
            tf.TensorSpec([None, None], tf.string, name=fk.CANDIDATE_ITEM_IDS),
            _NOW,
        ]  # fmt: skip
    )
    def score(self, history_item_ids, history_event_types, history_timestamps, user_key,
              candidate_item_ids, now):  # fmt: skip
        """Scores of given candidates for each history (re-ranking another system's results);
        an id outside the model's catalog scores ``UNKNOWN_SCORE``, below every real item."""
        candidate_item_ids = inputs.check_batch(
            fk.CANDIDATE_ITEM_IDS, tf.ensure_shape(candidate_item_ids, [None, None]),
            history_item_ids, fk.HISTORY_ITEM_IDS,
        )  # fmt: skip
        empty = tf.fill(tf.shape(user_key), "")
        features = self._features(
            history_item_ids, history_event_types, history_timestamps, user_key, now, empty
        )
        users = self._users(features)
        items = self.model.item_vectors(candidate_item_ids)
        scores = tf.einsum("bd,bnd->bn", users, items)
        known = self.model.catalog_rows.lookup(candidate_item_ids) >= 0
        return {"scores": tf.where(known, scores, UNKNOWN_SCORE)}


def warmup_requests(model: RtrecModel, now: int) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Requests shaped like real ones (a full-length history of catalog items; batches of 1
    and 8) for every serving signature: TF Serving replays them when it loads the version, so
    no real user waits for the first calls' tracing and allocation."""
    ids = (model.catalog.ids * (model.hp.history_length // max(model.catalog.size, 1) + 1))[
        : model.hp.history_length
    ]
    requests = []
    for batch in (1, 8, 1):
        history = {
            fk.HISTORY_ITEM_IDS: np.array([ids] * batch),
            fk.HISTORY_EVENT_TYPES: np.array([["view"] * len(ids)] * batch),
            fk.HISTORY_TIMESTAMPS: np.array(
                [[now - 60 * (len(ids) - i) for i in range(len(ids))]] * batch, np.int64
            ),  # fmt: skip
            fk.USER_KEY: np.array([""] * batch),
            fk.NOW: np.array([now] * batch, np.int64),
        }
        requests.append((fk.RECOMMEND, {**history, fk.EXCLUDE_ITEM_IDS: np.array([[""]] * batch),
                                        fk.K: np.int32(10)}))  # fmt: skip
    requests += [
        (fk.SEARCH, {**history, fk.QUERY: np.array(["warm up"]), fk.K: np.int32(10)}),
        (fk.USER_VECTORS, {**history, fk.QUERY: np.array([""])}),
        (fk.ITEM_VECTORS, {fk.ITEM_IDS: np.array(ids[:10])}),
        (fk.SCORE, {**history, fk.CANDIDATE_ITEM_IDS: np.array([ids[:10]])}),
        (
            fk.EMBED_ITEMS,
            {
                fk.ITEM_IDS: np.array(["warm-up"]),
                fk.TEXTS: np.array(["warm up"]),
                fk.CATEGORIES: np.array([""]),
            },
        ),  # fmt: skip
    ]
    return requests


def export(
    model: RtrecModel, encoder: BertTextEncoder, path: str, model_name: str = "rtrec"
) -> str:
    """Save the serving SavedModel to ``path`` (a TF Serving version folder), with the warm-up
    requests TF Serving replays on load (``assets.extra/tf_serving_warmup_requests``)."""
    module = ServingModule(model, encoder)
    signatures = {
        fk.DEFAULT_SIGNATURE: module.recommend_history,
        fk.RECOMMEND: module.recommend,
        fk.SEARCH: module.search,
        fk.USER_VECTORS: module.user_vectors,
        fk.ITEM_VECTORS: module.item_vectors,
        fk.EMBED_ITEMS: module.embed_items,
        fk.SCORE: module.score,
        fk.EVAL_SIGNATURE: module.evaluate_examples,
    }
    tf.saved_model.save(module, path, signatures=signatures)
    write_warmup_requests(path, model_name, warmup_requests(model, int(time.time())))
    return path
