"""The gateway's request and response bodies (pydantic), which FastAPI turns into /openapi.json.

Two levels of refusal, on purpose. A body that does not fit these models (not JSON, a wrong
type, a missing field, an event type outside the contract, too many rows) is refused whole with
422 and nothing is written. A row that fits them is judged by ingestion's own rules
(``rtrec.validation``) and may be rejected alone, by index and reason code, inside a 200: what
ingestion would dead-letter, the API reports, and the other rows of the batch are applied.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt

from rtrec import contract as c

ID_CHARS = 256
"""Longest user or item id the API takes (the contract sets none; this bounds memory)."""
TEXT_CHARS = 10_000
"""Longest text field (query, title, description) a body may carry; ingestion's
``max_text_chars`` then truncates as it does for files."""


def _lower(value: object) -> object:
    """Event types are case-insensitive, as in ingestion ('View' is 'view')."""
    return value.strip().lower() if isinstance(value, str) else value


EventType = Annotated[Literal[c.EVENT_TYPES], BeforeValidator(_lower)]  # type: ignore[valid-type]
Timestamp = Annotated[
    StrictInt | StrictFloat | Annotated[str, Field(max_length=64)],
    Field(description="Unix seconds, or ISO-8601 (naive means UTC)."),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventIn(_Body):
    """One event in the input contract (``rtrec/contract.py``), plus the request it answers."""

    user_id: str = Field(max_length=ID_CHARS, description="The product's user id (raw).")
    item_id: str = Field("", max_length=ID_CHARS, description="Empty only for a search.")
    event_type: EventType
    timestamp: Timestamp
    value: StrictFloat | StrictInt | None = Field(None, description="A rating, a price...")
    query: str = Field("", max_length=TEXT_CHARS, description="Search text (search events).")
    session_id: str = Field("", max_length=ID_CHARS)
    request_id: str = Field(
        "",
        max_length=ID_CHARS,
        description="The recommendation or search response this event answers: a click, "
        "add_to_cart or purchase on an item it showed is attributed to its A/B arm.",
    )


class EventBatch(_Body):
    events: list[EventIn] = Field(min_length=1)


class RowRejection(BaseModel):
    index: int = Field(description="Position of the row in the request.")
    reason: str = Field(description="A reason code (rtrec/reasons.py).")
    detail: str = ""


class EventsAccepted(BaseModel):
    """What happened to a batch: the accepted rows are in the event log and the store."""

    accepted: int
    rejected: list[RowRejection]
    attributed: int = Field(0, description="Accepted events credited to a logged impression.")
    catalog_checked: bool = Field(
        True,
        description="False when the model server was unreachable and some item ids could not "
        "be checked against its catalog: they were accepted, and ingestion checks them again.",
    )


class ItemIn(_Body):
    """A catalog item in the input contract; ``category`` is "A|B" as in the item files."""

    item_id: str = Field(min_length=1, max_length=ID_CHARS)
    title: str = Field(max_length=TEXT_CHARS)
    description: str = Field("", max_length=TEXT_CHARS)
    category: str = Field("", max_length=TEXT_CHARS)


class ItemBatch(_Body):
    items: list[ItemIn] = Field(min_length=1)


class ItemsAccepted(BaseModel):
    accepted: int
    rejected: list[RowRejection]
    model_versions: list[int] = Field(description="Versions whose vectors were computed.")


class ScoredItem(BaseModel):
    item_id: str
    score: float = Field(description="dot(user vector, item vector), as the model scores.")
    reason: str = Field(
        description='"because you viewed <item>" (the history item closest to it), "popular", '
        '"new item" (added through POST /v1/items) or "matches query".'
    )
    because_item_id: str | None = Field(None, description="The history item of the reason.")


class Recommendations(BaseModel):
    user_id: str
    items: list[ScoredItem]
    model_version: int
    arm: str
    request_id: str = Field(description="Send it back with the events this response causes.")
    cold_start: bool = Field(description="True when the user has no history yet.")


class SearchResults(Recommendations):
    query: str


class Forgotten(BaseModel):
    user_id: str
    forgotten: Literal[True] = True
    had_history: bool


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    model_server: str
    store: str
