"""Serving export: one SavedModel with `recommend`, `search`, `embed_items`, `score` (+ eval).

Built after training, apart from the training model (the TFRS pattern): a ``BruteForce`` index
over the whole catalog (core TF ops only; stock TF Serving has no ScaNN ops) and the BERT text
encoder with in-graph TF Text tokenization for new items and search queries. History arrives
raw (item ids, event types, Unix timestamps), so a request carries the user's latest clicks and
the recommendations follow them without retraining. Conventions for every signature:
histories are [batch, any length], most recent last, padded with '' (longer ones keep the most
recent ``history_length``); unknown ids fall into OOV rows; ``now`` = 0 means the server clock;
``k`` is clamped to [1, MAX_K].
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_recommenders as tfrs

from trainer import features as fk
from trainer.bert import BertTextEncoder
from trainer.interests import max_scores, merge_interest_results
from trainer.model import RtrecModel
from trainer.ranking import exclude_and_top_k

MAX_K = 100
EVAL_SIGNATURE = "evaluate_examples"
MAX_EXCLUDE = 100

_HISTORY = [
    tf.TensorSpec([None, None], tf.string, name="history_item_ids"),
    tf.TensorSpec([None, None], tf.string, name="history_event_types"),
    tf.TensorSpec([None, None], tf.int64, name="history_timestamps"),
]
_USER = tf.TensorSpec([None], tf.string, name="user_key")
_NOW = tf.TensorSpec([None], tf.int64, name="now")
_K = tf.TensorSpec([], tf.int32, name="k")


def _fit_width(x: tf.Tensor, width: int, pad) -> tf.Tensor:
    """Keep the last ``width`` columns, left-padding with ``pad`` when there are fewer."""
    x = x[:, -width:]
    missing = width - tf.shape(x)[1]
    return tf.pad(x, [[0, 0], [missing, 0]], constant_values=pad)


def _left_aligned(sparse: tf.SparseTensor, pad) -> tf.Tensor:
    """Variable-length rows -> dense rows padded on the left (most recent stays last)."""
    lengths = tf.math.bincount(
        tf.cast(sparse.indices[:, 0], tf.int32), minlength=tf.cast(sparse.dense_shape[0], tf.int32)
    )
    right_padded = tf.sparse.to_dense(sparse, default_value=pad)
    flipped = tf.reverse_sequence(right_padded, tf.cast(lengths, tf.int64), seq_axis=1)
    return tf.reverse(flipped, axis=[1])


class ServingModule(tf.Module):
    """The exported object: trained towers, the catalog index and the text encoder."""

    def __init__(self, model: RtrecModel, encoder: BertTextEncoder):
        super().__init__()
        self.model = model
        self.encoder = encoder
        self.length = model.hp.history_length
        self.index = tfrs.layers.factorized_top_k.BruteForce(
            k=min(MAX_K + self.length + MAX_EXCLUDE, model.catalog.size)
        )
        self.index.index(model.catalog_vectors(), model.catalog_ids)
        self.index(tf.zeros([1, model.vector_dim]))  # build it before saving

    def _features(self, ids, types, timestamps, user_key, now) -> dict:
        ids = _fit_width(ids, self.length, fk.PAD_ITEM)
        types = _fit_width(types, self.length, fk.PAD_ITEM)
        timestamps = _fit_width(timestamps, self.length, tf.constant(0, tf.int64))
        clock = tf.cast(tf.timestamp(), tf.int64)
        now = tf.where(now > 0, now, clock)
        ages = tf.cast(now[:, None] - timestamps, tf.float32)
        real = tf.not_equal(ids, fk.PAD_ITEM)
        return {
            fk.HISTORY_ITEM_IDS: ids,
            fk.HISTORY_EVENT_TYPES: types,
            fk.HISTORY_AGES_S: tf.where(real, tf.maximum(ages, 0.0), fk.PAD_AGE),
            fk.USER_KEY: user_key,
        }

    def _top_k(self, users, features, exclude_ids, k) -> dict:
        k = tf.clip_by_value(k, 1, min(MAX_K, self.model.catalog.size))
        exclude = tf.concat(
            [features[fk.HISTORY_ITEM_IDS], _fit_width(exclude_ids, MAX_EXCLUDE, fk.PAD_ITEM)], 1
        )
        interests = self.model.interest_count
        scores, ids = self.index(tf.reshape(users, [-1, self.model.vector_dim]))
        if interests > 1:
            # One index query per interest, then one merged list (exact; trainer/interests.py).
            batch = tf.shape(users)[0]
            ids, scores = merge_interest_results(
                tf.reshape(ids, [batch, -1]),
                tf.reshape(scores, [batch, -1]),
                self.model.catalog_rows,
            )
        top_ids, top_scores = exclude_and_top_k(ids, scores, exclude, k)
        return {"item_ids": top_ids, "scores": top_scores}

    def _users(self, features, query_vectors) -> tf.Tensor:
        return self.model.user_vectors(features, training=False, query_vectors=query_vectors)

    @tf.function(
        input_signature=[
            *_HISTORY,
            _USER,
            tf.TensorSpec([None, None], tf.string, name="exclude_item_ids"),
            _K,
            _NOW,
        ]
    )
    def recommend(self, history_item_ids, history_event_types, history_timestamps, user_key,
                  exclude_item_ids, k, now):  # fmt: skip
        """Top-k catalog items for fresh histories, history and ``exclude_item_ids`` removed."""
        features = self._features(
            history_item_ids, history_event_types, history_timestamps, user_key, now
        )
        zeros = tf.zeros([tf.shape(user_key)[0], self.model.catalog.text_dim])
        return self._top_k(self._users(features, zeros), features, exclude_item_ids, k)

    @tf.function(input_signature=_HISTORY)
    def recommend_history(self, history_item_ids, history_event_types, history_timestamps):
        """The simplest call (the default signature): a history only, top 10, server clock."""
        batch = tf.shape(history_item_ids)[0]
        return self.recommend(
            history_item_ids,
            history_event_types,
            history_timestamps,
            tf.fill([batch], ""),
            tf.fill([batch, 1], ""),
            tf.constant(10),
            tf.zeros([batch], tf.int64),
        )

    @tf.function(
        input_signature=[tf.TensorSpec([None], tf.string, name="query"), *_HISTORY, _USER, _K, _NOW]
    )
    def search(self, query, history_item_ids, history_event_types, history_timestamps,
               user_key, k, now):  # fmt: skip
        """Personalized search: the query text (BERT in the graph) combined with the history."""
        features = self._features(
            history_item_ids, history_event_types, history_timestamps, user_key, now
        )
        query_vectors = self.encoder(query)
        no_query = tf.equal(tf.strings.length(query), 0)[:, None]
        query_vectors = tf.where(no_query, tf.zeros_like(query_vectors), query_vectors)
        empty = tf.fill([tf.shape(query)[0], 1], "")
        return self._top_k(self._users(features, query_vectors), features, empty, k)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def evaluate_examples(self, examples):
        """Top MAX_K for serialized eval tf.Examples (what TFMA's Evaluator feeds the model).

        Ages are the ones recorded in the example (relative to its target), so offline
        evaluation sees exactly what training saw; the history is excluded as in serving.
        Histories of any recorded length are accepted and fitted to the model's (the most
        recent kept): a blessed baseline trained with another history length must still read
        the new eval split when the Evaluator compares the two.
        """
        length = self.length
        spec = {
            fk.HISTORY_ITEM_IDS: tf.io.VarLenFeature(tf.string),
            fk.HISTORY_EVENT_TYPES: tf.io.VarLenFeature(tf.string),
            fk.HISTORY_AGES_S: tf.io.VarLenFeature(tf.float32),
            fk.USER_KEY: tf.io.FixedLenFeature([], tf.string, default_value=""),
            fk.QUERY: tf.io.FixedLenFeature([], tf.string, default_value=""),
        }
        parsed = tf.io.parse_example(examples, spec)
        features = {fk.USER_KEY: parsed[fk.USER_KEY], fk.QUERY: parsed[fk.QUERY]}
        for key, pad in (
            (fk.HISTORY_ITEM_IDS, fk.PAD_ITEM),
            (fk.HISTORY_EVENT_TYPES, fk.PAD_ITEM),
            (fk.HISTORY_AGES_S, fk.PAD_AGE),
        ):
            features[key] = _fit_width(_left_aligned(parsed[key], pad), length, pad)
        users = self.model.user_vectors(features, training=False)
        empty = tf.fill([tf.shape(examples)[0], 1], "")
        return self._top_k(users, features, empty, tf.constant(MAX_K))

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string, name="item_ids"),
            tf.TensorSpec([None], tf.string, name="texts"),
            tf.TensorSpec([None], tf.string, name="categories"),
        ]
    )
    def embed_items(self, item_ids, texts, categories):
        """Item vectors from id + text + category cell ("A|B", "" for none): how a new item is
        indexed without retraining (the cell and the text also give its affinity columns)."""
        tower = self.model.item_tower
        vectors = tower.text_part(self.encoder(texts)) + tower.id_part(item_ids)
        finished = self.model.finish_item_vectors(vectors, item_ids, categories, texts)
        return {"embeddings": finished}

    @tf.function(
        input_signature=[
            *_HISTORY,
            _USER,
            tf.TensorSpec([None, None], tf.string, name="candidate_item_ids"),
            _NOW,
        ]
    )
    def score(self, history_item_ids, history_event_types, history_timestamps, user_key,
              candidate_item_ids, now):  # fmt: skip
        """Scores of given candidates for each history (re-ranking another system's results)."""
        features = self._features(
            history_item_ids, history_event_types, history_timestamps, user_key, now
        )
        zeros = tf.zeros([tf.shape(user_key)[0], self.model.catalog.text_dim])
        users = self._users(features, zeros)
        items = self.model.item_vectors(candidate_item_ids)
        return {"scores": max_scores(users, items)}


def export(model: RtrecModel, encoder: BertTextEncoder, path: str) -> str:
    """Save the serving SavedModel to ``path`` (a TF Serving version folder)."""
    module = ServingModule(model, encoder)
    signatures = {
        "serving_default": module.recommend_history,
        "recommend": module.recommend,
        "search": module.search,
        "embed_items": module.embed_items,
        "score": module.score,
        EVAL_SIGNATURE: module.evaluate_examples,
    }
    tf.saved_model.save(module, path, signatures=signatures)
    return path
