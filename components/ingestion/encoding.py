"""Serialization of examples and catalog items as tf.Example protos (what TFX components read)."""

from __future__ import annotations

from tensorflow.core.example import example_pb2, feature_pb2

from rtrec import features as fk
from rtrec.validation import Item


def _feature(value) -> feature_pb2.Feature:
    values = value if isinstance(value, (list, tuple)) else [value]
    if not values:
        return feature_pb2.Feature(bytes_list=feature_pb2.BytesList(value=[]))
    first = values[0]
    if isinstance(first, str):
        encoded = [v.encode("utf-8") for v in values]
        return feature_pb2.Feature(bytes_list=feature_pb2.BytesList(value=encoded))
    if isinstance(first, float):
        return feature_pb2.Feature(float_list=feature_pb2.FloatList(value=values))
    return feature_pb2.Feature(int64_list=feature_pb2.Int64List(value=[int(v) for v in values]))


def to_example(features: dict) -> bytes:
    """A dict of str / float / int values (or lists of one type) as a serialized tf.Example."""
    proto = example_pb2.Example(
        features=feature_pb2.Features(feature={k: _feature(v) for k, v in features.items()})
    )
    return proto.SerializeToString()


def training_example(features: dict) -> bytes:
    """A next-item example from ``history.build_examples``; float fields forced to float."""
    fixed = dict(features)
    fixed[fk.HISTORY_AGES_S] = [float(v) for v in features[fk.HISTORY_AGES_S]]
    for key in fk.FLOAT_SCALARS:
        fixed[key] = float(features[key])
    return to_example(fixed)


def catalog_example(item: Item, train_count: int, first_interaction: float | None) -> bytes:
    """One catalog item with its text and training frequency (the trainer's logQ input)."""
    return to_example(
        {
            fk.ITEM_ID: item.item_id,
            fk.ITEM_TITLE: item.title,
            fk.ITEM_TEXT: item.text,
            fk.ITEM_CATEGORIES: list(item.categories),
            fk.ITEM_CREATED_AT: int(item.created_at or 0),
            fk.ITEM_TRAIN_COUNT: int(train_count),
            fk.ITEM_FIRST_INTERACTION: int(first_interaction or 0),
        }
    )
