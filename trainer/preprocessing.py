"""tf.Transform ``preprocessing_fn``: item/category/event vocabularies with OOV buckets, recency.

Vocabularies are computed over the training split only (TFX Transform analyzes 'train'), so an
item first seen in eval or at serving time falls into an OOV bucket and is served by its text.
Raw history ids, query text and labels pass through for the content and query towers.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from trainer import features as fk

DEFAULTS = {
    "item_oov_buckets": 10,
    "category_oov_buckets": 2,
    "item_min_frequency": 1,
}
PASSTHROUGH = (
    fk.USER_KEY,
    fk.HISTORY_ITEM_IDS,
    fk.HISTORY_EVENT_TYPES,
    fk.HISTORY_AGES_S,
    fk.FUTURE_ITEM_IDS,
    fk.HISTORY_LENGTH,
    fk.QUERY,
    fk.TARGET_ITEM_ID,
    fk.TARGET_WEIGHT,
    fk.TARGET_VALUE,
    fk.TIMESTAMP,
    fk.TARGET_UNSEEN_IN_TRAIN,
    fk.TARGET_CATEGORY,
    fk.SESSION_POSITION,
)


def _dense(x: tf.Tensor) -> tf.Tensor:
    """Scalars arrive as [batch, 1] from the inferred schema; use [batch]."""
    return tf.reshape(x, [-1]) if x.shape.rank == 2 and x.shape[1] == 1 else x


def _vocab_over(values: list[tf.Tensor], name: str, min_frequency: int = 0):
    flat = tf.concat([tf.reshape(v, [-1]) for v in values], axis=0)
    real = tf.boolean_mask(flat, tf.not_equal(flat, fk.PAD_ITEM))
    threshold = min_frequency if min_frequency > 1 else None
    return tft.vocabulary(real, vocab_filename=name, frequency_threshold=threshold)


def preprocessing_fn(inputs: dict, custom_config: dict | None = None) -> dict:
    """Map raw next-item examples to model features (see trainer/features.py for the keys)."""
    cfg = {**DEFAULTS, **(custom_config or {})}
    history = inputs[fk.HISTORY_ITEM_IDS]
    mask = tf.not_equal(history, fk.PAD_ITEM)
    target = _dense(inputs[fk.TARGET_ITEM_ID])
    items = _vocab_over([history, target], fk.ITEM_VOCAB, cfg["item_min_frequency"])
    oov = cfg["item_oov_buckets"]
    types = inputs[fk.HISTORY_EVENT_TYPES]
    target_type = _dense(inputs[fk.TARGET_EVENT_TYPE])
    type_vocab = _vocab_over([types, target_type], fk.EVENT_TYPE_VOCAB)
    category = _dense(inputs[fk.TARGET_CATEGORY])
    category_vocab = _vocab_over([category], fk.CATEGORY_VOCAB)

    boundaries = tf.constant([list(fk.RECENCY_BOUNDARIES_S)], tf.float32)
    recency = tft.apply_buckets(inputs[fk.HISTORY_AGES_S], boundaries)

    out = {
        fk.HISTORY_ITEM_IDX_XF: tft.apply_vocabulary(history, items, num_oov_buckets=oov),
        fk.HISTORY_EVENT_TYPE_IDX_XF: tft.apply_vocabulary(types, type_vocab, num_oov_buckets=1),
        fk.HISTORY_RECENCY_BUCKET_XF: tf.where(mask, recency, tf.zeros_like(recency)),
        fk.HISTORY_MASK_XF: tf.cast(mask, tf.int64),
        fk.TARGET_ITEM_IDX_XF: tft.apply_vocabulary(target, items, num_oov_buckets=oov),
        fk.TARGET_EVENT_TYPE_IDX_XF: tft.apply_vocabulary(
            target_type, type_vocab, num_oov_buckets=1
        ),
        fk.TARGET_CATEGORY_IDX_XF: tft.apply_vocabulary(
            category, category_vocab, num_oov_buckets=cfg["category_oov_buckets"]
        ),
    }
    for key in PASSTHROUGH:
        out[key] = _dense(inputs[key])
    return out
