"""tf.Transform ``preprocessing_fn``: the item and event-type vocabularies, over the training split.

Transform analyzes the 'train' split only, so an item first seen in eval or at serving time is
out of vocabulary and served by its text. That analysis is Transform's whole job here, by
design: the model reads ingestion's raw examples and does its lookups in its own graph with the
same hashing as ``tft.apply_vocabulary`` (``StaticVocabularyTable`` over these vocabulary files,
``trainer/towers.py``). The serving signatures take raw, variable-length histories with Unix
timestamps and derive ages from the request clock, which a transform graph defined over
fixed-length training examples cannot express; and the quality benchmark builds the same model
without TFX. So Transform runs with ``materialize=False`` (no copy of the examples is written);
tf.Transform refuses an empty output, so it returns one feature that nothing reads.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from rtrec import features as fk

ITEM_MIN_FREQUENCY = "item_min_frequency"
"""``custom_config`` key: items seen fewer times in training get no vocabulary row."""


def _flat_real(values: list[tf.Tensor]) -> tf.Tensor:
    flat = tf.concat([tf.reshape(v, [-1]) for v in values], axis=0)
    return tf.boolean_mask(flat, tf.not_equal(flat, fk.PAD_ITEM))


def preprocessing_fn(inputs: dict, custom_config: dict | None = None) -> dict:
    """Compute the vocabularies the towers read (``fk.ITEM_VOCAB``, ``fk.EVENT_TYPE_VOCAB``)."""
    min_frequency = int((custom_config or {}).get(ITEM_MIN_FREQUENCY, 1))
    target = tf.reshape(inputs[fk.TARGET_ITEM_ID], [-1])
    items = tft.vocabulary(
        _flat_real([inputs[fk.HISTORY_ITEM_IDS], target]),
        vocab_filename=fk.ITEM_VOCAB,
        frequency_threshold=min_frequency if min_frequency > 1 else None,
    )
    tft.vocabulary(
        _flat_real(
            [inputs[fk.HISTORY_EVENT_TYPES], tf.reshape(inputs[fk.TARGET_EVENT_TYPE], [-1])]
        ),
        vocab_filename=fk.EVENT_TYPE_VOCAB,
    )
    # tf.Transform needs an output; nothing reads it (materialize=False writes no examples).
    return {"target_item_index": tft.apply_vocabulary(target, items, default_value=-1)}
