"""The user-feature dict that every path into the user tower builds with the same function.

Training batches (fixed-length examples with ages relative to the target), served requests
(histories of any length with Unix timestamps and a request clock) and serialized eval examples
all end in ``user_features``: the history fitted to the model's length (most recent kept, left
padded), ages masked under padding, keyed by ``rtrec.features.USER_FEATURES``. Adding a user
feature means adding it here once, not in each signature.
"""

from __future__ import annotations

import tensorflow as tf

from rtrec import features as fk

_PADS = {fk.HISTORY_ITEM_IDS: fk.PAD_ITEM, fk.HISTORY_EVENT_TYPES: fk.PAD_ITEM,
         fk.HISTORY_AGES_S: fk.PAD_AGE}  # fmt: skip


def fit_width(x: tf.Tensor, width: int, pad) -> tf.Tensor:
    """Keep the last ``width`` columns, left-padding with ``pad`` when there are fewer."""
    x = x[:, -width:]
    missing = width - tf.shape(x)[1]
    return tf.pad(x, [[0, 0], [missing, 0]], constant_values=pad)


def user_features(
    item_ids: tf.Tensor,
    event_types: tf.Tensor,
    ages_s: tf.Tensor,
    user_key: tf.Tensor,
    query: tf.Tensor,
    length: int,
) -> dict[str, tf.Tensor]:
    """The dict the towers read: histories [batch, any] fitted to ``length``, ages as float32
    with ``PAD_AGE`` wherever the item id is padding (garbage under padding is never read)."""
    ids = fit_width(item_ids, length, fk.PAD_ITEM)
    types = fit_width(event_types, length, fk.PAD_ITEM)
    ages = fit_width(tf.cast(ages_s, tf.float32), length, fk.PAD_AGE)
    return {
        fk.USER_KEY: user_key,
        fk.HISTORY_ITEM_IDS: ids,
        fk.HISTORY_EVENT_TYPES: types,
        fk.HISTORY_AGES_S: tf.where(tf.not_equal(ids, fk.PAD_ITEM), ages, fk.PAD_AGE),
        fk.QUERY: query,
    }


def request_ages(timestamps: tf.Tensor, item_ids: tf.Tensor, now: tf.Tensor) -> tf.Tensor:
    """Ages in seconds of served history steps at ``now`` (0: the server clock).

    Steps up to ``MAX_CLOCK_SKEW_S`` after ``now`` count as age 0 (fast client clocks); later
    ones are refused, since milliseconds sent for seconds would otherwise all become age 0.
    """
    clock = tf.cast(tf.timestamp(), tf.int64)
    now = tf.where(now > 0, now, clock)
    ages = now[:, None] - timestamps
    real = tf.not_equal(item_ids, fk.PAD_ITEM)
    check = tf.debugging.assert_greater_equal(
        tf.where(real, ages, 0),
        tf.constant(-fk.MAX_CLOCK_SKEW_S, tf.int64),
        message=f"history_timestamps after now (by more than {fk.MAX_CLOCK_SKEW_S} s): send "
        "Unix seconds (not milliseconds) and a 'now' of 0 or the request time",
    )
    return tf.cast(tf.maximum(_after(check, ages), 0), tf.float32)


def _after(check, tensor: tf.Tensor) -> tf.Tensor:
    """``tensor``, computed only once ``check`` (an assertion op) has passed: a refused request
    fails with the assertion's message, not with a cryptic error further down the graph."""
    with tf.control_dependencies([check] if check is not None else []):
        return tf.identity(tensor)


def checked(condition: tf.Tensor, message: str, tensor: tf.Tensor) -> tf.Tensor:
    """``tensor`` if the scalar bool ``condition`` holds, else an InvalidArgument ``message``."""
    return _after(tf.debugging.Assert(condition, [message]), tensor)


def check_batch(name: str, tensor: tf.Tensor, reference: tf.Tensor, reference_name: str):
    """``tensor``, refused unless its first dimension equals ``reference``'s (one row each)."""
    check = tf.debugging.assert_equal(
        tf.shape(tensor)[0],
        tf.shape(reference)[0],
        message=f"{name} must have one row per {reference_name} row",
    )
    return _after(check, tensor)


def check_same_shape(name: str, tensor: tf.Tensor, reference: tf.Tensor, ref_name: str):
    """``tensor``, refused unless it has exactly ``reference``'s shape (aligned histories)."""
    check = tf.debugging.assert_equal(
        tf.shape(tensor), tf.shape(reference), message=f"{name} must have the shape of {ref_name}"
    )
    return _after(check, tensor)


def left_aligned(sparse: tf.SparseTensor, pad) -> tf.Tensor:
    """Variable-length rows -> dense rows padded on the left (most recent stays last)."""
    lengths = tf.math.bincount(
        tf.cast(sparse.indices[:, 0], tf.int32), minlength=tf.cast(sparse.dense_shape[0], tf.int32)
    )
    right_padded = tf.sparse.to_dense(sparse, default_value=pad)
    flipped = tf.reverse_sequence(right_padded, tf.cast(lengths, tf.int64), seq_axis=1)
    return tf.reverse(flipped, axis=[1])


def example_features(serialized: tf.Tensor, length: int) -> dict[str, tf.Tensor]:
    """User features of serialized eval tf.Examples of any recorded history length: a blessed
    baseline trained with another length must still read a new eval split."""
    spec = {key: tf.io.VarLenFeature(tf.float32 if key == fk.HISTORY_AGES_S else tf.string)
            for key in fk.HISTORY_SEQUENCES}  # fmt: skip
    spec[fk.USER_KEY] = tf.io.FixedLenFeature([], tf.string, default_value="")
    spec[fk.QUERY] = tf.io.FixedLenFeature([], tf.string, default_value="")
    parsed = tf.io.parse_example(serialized, spec)
    dense = {key: left_aligned(parsed[key], _PADS[key]) for key in fk.HISTORY_SEQUENCES}
    return user_features(
        dense[fk.HISTORY_ITEM_IDS], dense[fk.HISTORY_EVENT_TYPES], dense[fk.HISTORY_AGES_S],
        parsed[fk.USER_KEY], parsed[fk.QUERY], length,
    )  # fmt: skip


def batch_features(batch: dict[str, tf.Tensor], length: int) -> dict[str, tf.Tensor]:
    """A training or evaluation batch: the user features, plus the labels as they are."""
    features = user_features(
        batch[fk.HISTORY_ITEM_IDS], batch[fk.HISTORY_EVENT_TYPES], batch[fk.HISTORY_AGES_S],
        batch[fk.USER_KEY], batch[fk.QUERY], length,
    )  # fmt: skip
    return {**features, **{key: batch[key] for key in fk.LABELS if key in batch}}
