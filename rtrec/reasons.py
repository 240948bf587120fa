"""Reason codes for rejected rows and the counter names that the ingestion report reconciles."""

from __future__ import annotations

# Why an event row was rejected (dead-lettered).
MALFORMED_ROW = "malformed_row"
BAD_BYTES = "bad_bytes"
"""A line with bytes that are not UTF-8, or a NUL byte (see decoding.py)."""
MISSING_USER_ID = "missing_user_id"
MISSING_ITEM_ID = "missing_item_id"
BAD_EVENT_TYPE = "bad_event_type"
BAD_TIMESTAMP = "bad_timestamp"
BAD_VALUE = "bad_value"
MISSING_QUERY = "missing_query"
UNKNOWN_ITEM = "unknown_item"
FUTURE_TIMESTAMP = "future_timestamp"

EVENT_REJECT_REASONS: tuple[str, ...] = (
    MALFORMED_ROW,
    BAD_BYTES,
    MISSING_USER_ID,
    MISSING_ITEM_ID,
    BAD_EVENT_TYPE,
    BAD_TIMESTAMP,
    BAD_VALUE,
    MISSING_QUERY,
    UNKNOWN_ITEM,
    FUTURE_TIMESTAMP,
)

# Why an item row was rejected.
EMPTY_TITLE = "empty_title"
CONFLICTING_DUPLICATE = "conflicting_duplicate"
"""A later row of an item id whose title, description, categories or created_at differ from
the first row's (the first row, by input order, is kept; exact repeats are duplicates)."""
ITEM_REJECT_REASONS: tuple[str, ...] = (
    MALFORMED_ROW,
    BAD_BYTES,
    MISSING_ITEM_ID,
    EMPTY_TITLE,
    CONFLICTING_DUPLICATE,
)

# Why the gateway's event API refuses a row that is valid by itself (besides the reasons above).
DUPLICATE = "duplicate"
"""An exact repeat of an event the user already has: a retried batch is applied once."""
BOT = "bot"
"""The event would put more than ``bot_max_events_per_minute`` of the user's in one minute."""
FORGOTTEN_USER = "forgotten_user"
"""The user was forgotten (``DELETE /v1/users/{id}``): no new history is kept for them."""
GATEWAY_REJECT_REASONS: tuple[str, ...] = (*EVENT_REJECT_REASONS, DUPLICATE, BOT, FORGOTTEN_USER)

# Counter names. Event rows reconcile as:
#   events_in == events_accepted + sum(rejected.*) + duplicates_removed + bot_filtered
#                + forgotten_events
EVENTS_IN = "events_in"
EVENTS_ACCEPTED = "events_accepted"
DUPLICATES_REMOVED = "duplicates_removed"
BOT_FILTERED = "bot_filtered"
BOT_USERS = "bot_users"
FORGOTTEN_EVENTS = "forgotten_events"
"""Events of users with a tombstone (``ingestion.tombstones``), dropped before anything else."""
FORGOTTEN_USERS = "forgotten_users"
CLAMPED_TIMESTAMPS = "clamped_timestamps"
TRUNCATED_QUERIES = "truncated_queries"
REJECTED_PREFIX = "rejected."

# Item rows reconcile as: items_in == items_accepted + sum(items_rejected.*) + item_duplicates.
ITEMS_IN = "items_in"
ITEMS_ACCEPTED = "items_accepted"
ITEM_DUPLICATES = "item_duplicates"
ITEMS_REJECTED_PREFIX = "items_rejected."
TRUNCATED_ITEM_TEXT = "truncated_item_text"

# What the accepted events became.
USERS = "users"
SESSIONS = "sessions"
INTERACTIONS = "interactions"
TRAIN_EXAMPLES = "train_examples"
EVAL_EXAMPLES = "eval_examples"
EVAL_COLD_TARGETS = "eval_cold_targets"
