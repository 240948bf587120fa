"""Input pipelines: transformed TFX examples, or in-memory examples built without TFX.

Both yield dicts of raw feature tensors keyed as in ``trainer/features.py``, batched, which is
all ``RtrecModel`` reads. The frozen query vector is looked up inside the model.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import tensorflow as tf

from trainer import features as fk

MODEL_INPUTS = (
    fk.USER_KEY,
    fk.HISTORY_ITEM_IDS,
    fk.HISTORY_EVENT_TYPES,
    fk.HISTORY_AGES_S,
    fk.QUERY,
    fk.TARGET_ITEM_ID,
    fk.TARGET_WEIGHT,
    fk.TARGET_UNSEEN_IN_TRAIN,
    fk.HISTORY_LENGTH,
)
OPTIONAL_INPUTS = (fk.FUTURE_ITEM_IDS,)
_SEQUENCES = (fk.HISTORY_ITEM_IDS, fk.HISTORY_EVENT_TYPES, fk.HISTORY_AGES_S)


def _select(batch: dict, history_length: int) -> dict:
    out = {}
    for key in MODEL_INPUTS + tuple(k for k in OPTIONAL_INPUTS if k in batch):
        value = batch[key]
        if isinstance(value, tf.SparseTensor):
            value = tf.sparse.to_dense(value)
        shape = [-1, history_length] if key in _SEQUENCES else [-1]
        if key in OPTIONAL_INPUTS:
            shape = [-1, int(value.shape[-1])]
        out[key] = tf.reshape(value, shape)
    return out


def tfx_dataset(
    file_pattern: list[str],
    data_accessor,
    schema,
    batch_size: int,
    history_length: int,
    shuffle: bool,
    seed: int = 0,
) -> tf.data.Dataset:
    """Transformed examples (Transform's output, raw features passed through) as model inputs."""
    from tfx_bsl.public import tfxio

    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, shuffle=shuffle, shuffle_seed=seed, num_epochs=1
        ),
        schema,
    )
    return dataset.map(lambda b: _select(b, history_length)).prefetch(tf.data.AUTOTUNE)


def arrays_from_examples(examples: Iterable[dict]) -> dict[str, np.ndarray]:
    """Feature dicts (as ``components.ingestion.history.build_examples`` yields) to arrays."""
    rows = list(examples)
    if not rows:
        raise ValueError("no examples to build arrays from")
    out = {}
    for key in MODEL_INPUTS + tuple(k for k in OPTIONAL_INPUTS if k in rows[0]):
        values = [row[key] for row in rows]
        if key in (fk.HISTORY_AGES_S, fk.TARGET_WEIGHT):
            out[key] = np.asarray(values, np.float32)
        elif key in (fk.TARGET_UNSEEN_IN_TRAIN, fk.HISTORY_LENGTH):
            out[key] = np.asarray(values, np.int64)
        else:
            out[key] = np.asarray(values, dtype=object).astype(str)
    return out


def array_dataset(
    arrays: dict[str, np.ndarray], batch_size: int, shuffle: bool, seed: int = 0
) -> tf.data.Dataset:
    """In-memory arrays as a batched dataset of model inputs."""
    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle:
        n = len(next(iter(arrays.values())))
        dataset = dataset.shuffle(min(n, 200_000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


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
