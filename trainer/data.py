"""Input pipelines: ingestion's examples through TFX's data accessor, or in-memory arrays.

Both yield batches of ``trainer.inputs.batch_features``: the user features keyed as in
``rtrec.features`` plus the labels, which is all ``RtrecModel`` reads (the query's text vector
is looked up inside the model).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import tensorflow as tf

from rtrec import features as fk
from trainer.inputs import batch_features

INPUTS = fk.USER_FEATURES + fk.LABELS
_FLOATS = (fk.HISTORY_AGES_S, fk.TARGET_WEIGHT)
_INTS = (fk.TARGET_UNSEEN_IN_TRAIN,)


def _dense(batch: dict, history_length: int) -> dict:
    """The model's inputs of a parsed batch, dense, scalars as [batch]."""
    out = {}
    for key in INPUTS:
        value = batch[key]
        if isinstance(value, tf.SparseTensor):
            value = tf.sparse.to_dense(value)
        out[key] = tf.reshape(value, [-1, history_length] if key in fk.HISTORY_SEQUENCES else [-1])
    return batch_features(out, history_length)


def tfx_dataset(
    file_pattern: list[str],
    data_accessor,
    schema,
    batch_size: int,
    history_length: int,
    shuffle: bool,
    seed: int = 0,
) -> tf.data.Dataset:
    """Ingestion's examples (read with the raw schema) as batches of model inputs."""
    from tfx_bsl.public import tfxio

    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, shuffle=shuffle, shuffle_seed=seed, num_epochs=1
        ),
        schema,
    )
    return dataset.map(lambda b: _dense(b, history_length)).prefetch(tf.data.AUTOTUNE)


def arrays_from_examples(examples: Iterable[dict]) -> dict[str, np.ndarray]:
    """Feature dicts (as ``rtrec.timeline.build_examples`` yields) to the model's input arrays."""
    rows = list(examples)
    if not rows:
        raise ValueError("no examples to build arrays from")
    out = {}
    for key in INPUTS:
        values = [row[key] for row in rows]
        if key in _FLOATS:
            out[key] = np.asarray(values, np.float32)
        elif key in _INTS:
            out[key] = np.asarray(values, np.int64)
        else:
            out[key] = np.asarray(values, dtype=object).astype(str)
    return out


def array_dataset(
    arrays: dict[str, np.ndarray], batch_size: int, shuffle: bool, seed: int = 0
) -> tf.data.Dataset:
    """In-memory arrays (histories [n, length]) as a batched dataset of model inputs."""
    length = int(arrays[fk.HISTORY_ITEM_IDS].shape[1])
    dataset = tf.data.Dataset.from_tensor_slices({key: arrays[key] for key in INPUTS})
    if shuffle:
        n = len(arrays[fk.HISTORY_ITEM_IDS])
        dataset = dataset.shuffle(min(n, 200_000), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda batch: batch_features(batch, length))
    return dataset.prefetch(tf.data.AUTOTUNE)


def take_arrays(dataset: tf.data.Dataset, limit: int) -> dict[str, np.ndarray]:
    """Up to ``limit`` examples of a batched dataset, as arrays (for evaluation)."""
    parts: dict[str, list] = {}
    seen = 0
    for batch in dataset:
        for key, value in batch.items():
            parts.setdefault(key, []).append(value.numpy())
        seen += int(next(iter(batch.values())).shape[0])
        if seen >= limit:
            break
    if not parts:
        raise ValueError("the evaluation dataset is empty")
    arrays = {key: np.concatenate(values)[:limit] for key, values in parts.items()}
    for key, value in arrays.items():
        if value.dtype == object:
            arrays[key] = value.astype(bytes).astype(str)
    return arrays
