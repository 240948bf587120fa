"""The one source of truth for feature keys, their types, vocabulary names and sequence lengths.

Ingestion writes examples with these raw keys, tf.Transform adds the ``_xf`` keys, the trainer
and the serving signatures read them. Changing a key here changes it everywhere.
"""

from __future__ import annotations

# Raw example features written by components/ingestion.
USER_KEY = "user_key"
HISTORY_ITEM_IDS = "history_item_ids"
HISTORY_EVENT_TYPES = "history_event_types"
HISTORY_AGES_S = "history_ages_s"
HISTORY_TIMESTAMPS = "history_timestamps"
FUTURE_ITEM_IDS = "future_item_ids"
"""Items the user went on to interact with within a horizon after the target (training only:
the dense "all actions" objective, as in PinnerFormer)."""
HISTORY_LENGTH = "history_length"
SESSION_POSITION = "session_position"
SESSION_ELAPSED_S = "session_elapsed_s"
QUERY = "query"
TARGET_ITEM_ID = "target_item_id"
TARGET_EVENT_TYPE = "target_event_type"
TARGET_WEIGHT = "target_weight"
TARGET_VALUE = "target_value"
TIMESTAMP = "timestamp"
TARGET_UNSEEN_IN_TRAIN = "target_unseen_in_train"
TARGET_CATEGORY = "target_category"
HISTORY_BUCKET = "history_bucket"
TARGET_POPULARITY = "target_popularity"
"""Slicing features for evaluation: 'empty' / 'short' / 'long' history; target item's
training popularity 'cold' / 'tail' / 'torso' / 'head'."""
SHORT_HISTORY_MAX = 5

# Item catalog features (components/ingestion writes them to the ItemCatalog artifact).
ITEM_ID = "item_id"
ITEM_TITLE = "title"
ITEM_TEXT = "text"
ITEM_CATEGORIES = "categories"
ITEM_CREATED_AT = "created_at"
ITEM_TRAIN_COUNT = "train_count"
ITEM_FIRST_INTERACTION = "first_interaction"

# Derived in the input pipeline (not in examples): the frozen BERT vector of QUERY.
QUERY_VECTOR = "query_vector"

# Age buckets of history steps: 1m, 5m, 15m, 1h, 3h, 12h, 1d, 3d, 7d, 30d, 90d (seconds).
# Fixed and human-readable, so Transform, the trainer and serving bucket identically.
RECENCY_BOUNDARIES_S: tuple[float, ...] = (
    60.0,
    300.0,
    900.0,
    3600.0,
    10800.0,
    43200.0,
    86400.0,
    259200.0,
    604800.0,
    2592000.0,
    7776000.0,
)

# Padding in fixed-length history features (most recent interaction last).
PAD_ITEM = ""
PAD_AGE = -1.0

BYTES_SEQUENCES = (HISTORY_ITEM_IDS, HISTORY_EVENT_TYPES)
FUTURE_SEQUENCES = (FUTURE_ITEM_IDS,)
FLOAT_SEQUENCES = (HISTORY_AGES_S,)
INT_SEQUENCES = (HISTORY_TIMESTAMPS,)
BYTES_SCALARS = (
    USER_KEY,
    QUERY,
    TARGET_ITEM_ID,
    TARGET_EVENT_TYPE,
    TARGET_CATEGORY,
    HISTORY_BUCKET,
    TARGET_POPULARITY,
)
FLOAT_SCALARS = (SESSION_ELAPSED_S, TARGET_WEIGHT, TARGET_VALUE)
INT_SCALARS = (HISTORY_LENGTH, SESSION_POSITION, TIMESTAMP, TARGET_UNSEEN_IN_TRAIN)


def history_bucket(length: int) -> str:
    """Evaluation slice of a history length."""
    if length == 0:
        return "empty"
    return "short" if length <= SHORT_HISTORY_MAX else "long"


def popularity_bucket(train_count: int) -> str:
    """Evaluation slice of an item's number of training interactions."""
    if train_count == 0:
        return "cold"
    return "tail" if train_count < 10 else "torso" if train_count < 100 else "head"


def transformed_name(key: str) -> str:
    """The name tf.Transform gives a feature derived from ``key``."""
    return f"{key}_xf"


# Transformed features (trainer/preprocessing.py).
HISTORY_ITEM_IDX_XF = transformed_name(HISTORY_ITEM_IDS)
HISTORY_EVENT_TYPE_IDX_XF = transformed_name(HISTORY_EVENT_TYPES)
HISTORY_RECENCY_BUCKET_XF = transformed_name(HISTORY_AGES_S)
HISTORY_MASK_XF = transformed_name("history_mask")
TARGET_ITEM_IDX_XF = transformed_name(TARGET_ITEM_ID)
TARGET_EVENT_TYPE_IDX_XF = transformed_name(TARGET_EVENT_TYPE)
TARGET_CATEGORY_IDX_XF = transformed_name(TARGET_CATEGORY)

# Vocabulary names written by tf.Transform.
ITEM_VOCAB = "item_id"
CATEGORY_VOCAB = "category"
EVENT_TYPE_VOCAB = "event_type"


def raw_feature_spec(history_length: int, future_targets: int = 8) -> dict:
    """Parsing spec of the raw examples that ingestion writes."""
    import tensorflow as tf  # lazily: ingestion uses the keys without loading TensorFlow

    spec: dict = {}
    for key in BYTES_SEQUENCES:
        spec[key] = tf.io.FixedLenFeature([history_length], tf.string)
    for key in FUTURE_SEQUENCES:
        spec[key] = tf.io.FixedLenFeature([future_targets], tf.string)
    for key in FLOAT_SEQUENCES:
        spec[key] = tf.io.FixedLenFeature([history_length], tf.float32)
    for key in INT_SEQUENCES:
        spec[key] = tf.io.FixedLenFeature([history_length], tf.int64)
    for key in BYTES_SCALARS:
        spec[key] = tf.io.FixedLenFeature([], tf.string)
    for key in FLOAT_SCALARS:
        spec[key] = tf.io.FixedLenFeature([], tf.float32)
    for key in INT_SCALARS:
        spec[key] = tf.io.FixedLenFeature([], tf.int64)
    return spec
