"""The input contract: column names, event types and limits that every data source must meet."""

from __future__ import annotations

# Event table columns.
USER_ID = "user_id"
ITEM_ID = "item_id"
EVENT_TYPE = "event_type"
TIMESTAMP = "timestamp"
VALUE = "value"
QUERY = "query"
SESSION_ID = "session_id"

EVENT_REQUIRED_COLUMNS: tuple[str, ...] = (USER_ID, ITEM_ID, EVENT_TYPE, TIMESTAMP)
EVENT_OPTIONAL_COLUMNS: tuple[str, ...] = (VALUE, QUERY, SESSION_ID)
EVENT_COLUMNS: tuple[str, ...] = EVENT_REQUIRED_COLUMNS + EVENT_OPTIONAL_COLUMNS

# Item table columns.
TITLE = "title"
DESCRIPTION = "description"
CATEGORY = "category"
CREATED_AT = "created_at"

ITEM_REQUIRED_COLUMNS: tuple[str, ...] = (ITEM_ID, TITLE)
ITEM_OPTIONAL_COLUMNS: tuple[str, ...] = (DESCRIPTION, CATEGORY, CREATED_AT)
ITEM_COLUMNS: tuple[str, ...] = ITEM_REQUIRED_COLUMNS + ITEM_OPTIONAL_COLUMNS

CATEGORY_SEPARATOR = "|"


def split_categories(value: str) -> tuple[str, ...]:
    """A ``category`` cell -> its names, trimmed, empty parts dropped ("A|B" -> ("A", "B"))."""
    return tuple(part.strip() for part in value.split(CATEGORY_SEPARATOR) if part.strip())


def item_text(title: str, categories: tuple[str, ...] | list[str], description: str = "") -> str:
    """The text the item tower reads: "title. A / B. description" (empty parts left out).

    The pipeline's catalog, the benchmark and items added through the gateway all build it here:
    the model embeds a new item exactly as it embedded the catalog only if the text is the same.
    """
    parts = [" ".join(title.split()), " / ".join(categories), " ".join(description.split())]
    return ". ".join(part for part in parts if part)


# Event types, in funnel order. `search` carries `query`; its `item_id` may be empty.
VIEW, CLICK, ADD_TO_CART, PURCHASE, RATE, SEARCH = (
    "view",
    "click",
    "add_to_cart",
    "purchase",
    "rate",
    "search",
)
EVENT_TYPES: tuple[str, ...] = (VIEW, CLICK, ADD_TO_CART, PURCHASE, RATE, SEARCH)

# Text longer than this (characters) is truncated during ingestion and counted.
MAX_TEXT_CHARS = 2000
