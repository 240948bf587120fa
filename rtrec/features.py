"""The one source of truth for feature keys, padding values, recency buckets and signature names.

Ingestion writes examples with these keys, the trainer reads them, the serving signatures take
their inputs under these names and the gateway builds requests with them. Changing a key here
changes it everywhere; adding a user feature starts here.
"""

from __future__ import annotations

# Example features written by ingestion (one next-item example per interaction).
USER_KEY = "user_key"
"""The HMAC-SHA256 pseudonym of the user id (``rtrec.timeline.pseudonymize``)."""
HISTORY_ITEM_IDS = "history_item_ids"
HISTORY_EVENT_TYPES = "history_event_types"
HISTORY_AGES_S = "history_ages_s"
"""Seconds from each history step to the target (training) or to ``now`` (serving)."""
HISTORY_TIMESTAMPS = "history_timestamps"
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

# Item catalog features (ingestion writes them to the ItemCatalog artifact).
ITEM_ID = "item_id"
ITEM_TITLE = "title"
ITEM_TEXT = "text"
ITEM_CATEGORIES = "categories"
ITEM_CREATED_AT = "created_at"
ITEM_TRAIN_COUNT = "train_count"
ITEM_FIRST_INTERACTION = "first_interaction"

# Derived inside the model (never in examples): the text vector of QUERY, zeros for none.
QUERY_VECTOR = "query_vector"

# Age buckets of history steps: 1m, 5m, 15m, 1h, 3h, 12h, 1d, 3d, 7d, 30d, 90d (seconds).
# Fixed and human-readable, so training and serving bucket identically.
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

USER_FEATURES = (USER_KEY, HISTORY_ITEM_IDS, HISTORY_EVENT_TYPES, HISTORY_AGES_S, QUERY)
"""What the user tower reads: training batches, served requests and eval examples all become a
dict of exactly these (``trainer.inputs``)."""
HISTORY_SEQUENCES = (HISTORY_ITEM_IDS, HISTORY_EVENT_TYPES, HISTORY_AGES_S)
LABELS = (TARGET_ITEM_ID, TARGET_WEIGHT, TARGET_UNSEEN_IN_TRAIN)
"""What the training loss and the per-epoch evaluation read besides the user features."""

# Vocabularies computed by tf.Transform over the training split (trainer/preprocessing.py).
ITEM_VOCAB = "item_id"
EVENT_TYPE_VOCAB = "event_type"

# Serving signatures of the exported SavedModel (trainer/signatures.py), and their inputs.
RECOMMEND, SEARCH, SCORE, EMBED_ITEMS = "recommend", "search", "score", "embed_items"
USER_VECTORS, ITEM_VECTORS, EVAL_SIGNATURE = "user_vectors", "item_vectors", "evaluate_examples"
DEFAULT_SIGNATURE = "serving_default"
NOW = "now"
"""Request time in Unix seconds (0: the server's clock); ages are ``now - history_timestamps``."""
K = "k"
EXCLUDE_ITEM_IDS = "exclude_item_ids"
CANDIDATE_ITEM_IDS = "candidate_item_ids"
ITEM_IDS, TEXTS, CATEGORIES = "item_ids", "texts", "categories"
MAX_K = 100
"""Largest top-k a signature answers; ``k`` outside [1, MAX_K] is refused."""
MAX_EXCLUDE = 100
"""Most ``exclude_item_ids`` per request; longer lists are refused (never silently cut)."""
MAX_CLOCK_SKEW_S = 3600
"""A history timestamp up to this far after ``now`` counts as ``now`` (client clocks run fast);
later ones are refused, as milliseconds sent for seconds would be."""


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


def raw_feature_spec(history_length: int) -> dict:
    """Parsing spec of the examples that ingestion writes."""
    import tensorflow as tf  # lazily: ingestion and serving use the keys without TensorFlow

    spec: dict = {}
    for key in BYTES_SEQUENCES:
        spec[key] = tf.io.FixedLenFeature([history_length], tf.string)
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
