"""The serving benchmark's synthetic model: a recommend-like SavedModel and its numpy twin.

Shaped like rtrec's export: ``history_item_ids`` [batch, any length] strings looked up in a
vocabulary, a user projection of the mean history vector, a brute-force dot product against an
[N, 64] variable and ``tf.math.top_k`` with a scalar ``k``. The numpy twin runs the same
arithmetic over the same vectors: the floor a served model is compared with.
"""

from __future__ import annotations

import numpy as np

DIM, HISTORY = 64, 50


def build_model(path: str, items: int, seed: int = 0) -> dict:
    """Save a recommend-like SavedModel over ``items`` random unit vectors; its numpy twin."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((items, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    projection = (rng.standard_normal((DIM, DIM)) / np.sqrt(DIM)).astype(np.float32)
    ids = np.array([f"item-{i}" for i in range(items)])

    class Recommender(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vectors = tf.Variable(vectors, trainable=False)
            self.projection = tf.Variable(projection, trainable=False)
            self.ids = tf.constant(ids)
            self.rows = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(self.ids, tf.range(items, dtype=tf.int64)), -1
            )

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.string, name="history_item_ids"),
                tf.TensorSpec([], tf.int32, name="k"),
            ]
        )
        def recommend(self, history_item_ids, k):
            rows = self.rows.lookup(history_item_ids)
            known = tf.cast(rows >= 0, tf.float32)[..., None]
            history = tf.gather(self.vectors, tf.maximum(rows, 0)) * known
            mean = tf.reduce_sum(history, 1) / tf.maximum(tf.reduce_sum(known, 1), 1.0)
            users = tf.tanh(mean @ self.projection)
            scores, top = tf.math.top_k(tf.matmul(users, self.vectors, transpose_b=True), k)
            return {"item_ids": tf.gather(self.ids, top), "scores": scores}

    module = Recommender()
    tf.saved_model.save(module, path, signatures={"recommend": module.recommend})
    return {"vectors": vectors, "projection": projection, "ids": ids}


def numpy_recommend(twin: dict, row_of: dict, history: np.ndarray, k: int) -> tuple:
    """The floor: the same computation in numpy (argpartition top-k)."""
    rows = [[row_of[h] for h in user if h in row_of] for user in history.tolist()]
    means = np.stack([twin["vectors"][r].mean(0) if r else np.zeros(DIM) for r in rows])
    return numpy_top_k(twin, np.tanh(means @ twin["projection"]), k)


def histories(ids: np.ndarray, count: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [ids[rng.integers(0, len(ids), size=(1, HISTORY))] for _ in range(count)]


def export_twin(loaded) -> dict:
    """A real rtrec export's catalog as a dense numpy index: ``ids`` (its index's identifiers)
    and ``vectors`` (their served vectors, from its ``item_vectors`` signature)."""
    import tensorflow as tf

    ids = loaded.index.identifiers.numpy().astype(str)
    item_vectors = loaded.signatures["item_vectors"]
    chunks = [
        item_vectors(item_ids=tf.constant(ids[start : start + 4096]))["item_vectors"].numpy()
        for start in range(0, len(ids), 4096)
    ]
    return {"ids": ids, "vectors": np.concatenate(chunks)}


def export_requests(ids: np.ndarray, count: int, k: int, seed: int = 1) -> list[dict]:
    """``recommend`` requests for a real export: full-length histories of its catalog items,
    a minute apart, viewed, ending a minute before ``now`` (what a live user sends)."""
    now = 1_750_000_000
    stamps = np.array([[now - 60 * (HISTORY - i) for i in range(HISTORY)]], np.int64)
    return [
        {
            "history_item_ids": history.astype(object),
            "history_event_types": np.full((1, HISTORY), "view", dtype=object),
            "history_timestamps": stamps,
            "user_key": np.array([""], dtype=object),
            "now": np.array([now], np.int64),
            "exclude_item_ids": np.zeros((1, 0), dtype=object),
            "k": np.int32(k),
        }
        for history in histories(ids, count, seed)
    ]


def numpy_top_k(twin: dict, users: np.ndarray, k: int) -> tuple:
    """(ids, scores) of the ``k`` best items per user vector over ``twin``'s ``vectors``: the
    floor's top-k (a real export's floor is this alone, its user vectors computed beforehand)."""
    scores = users @ twin["vectors"].T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, 1).argsort(1)[:, ::-1]
    top = np.take_along_axis(top, order, 1)
    return twin["ids"][top], np.take_along_axis(scores, top, 1)
