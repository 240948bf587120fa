"""The online store's contract: records, errors and the `OnlineStore` interface both backends meet.

The gateway keeps per-user state between requests (recent events in the shape the model reads,
items added through the API, tombstones of forgotten users, A/B impressions and their clicks).
One abstract class fixes the semantics so the SQLite backend (one machine) and the Redis backend
(several gateway replicas) are interchangeable, and one parametrized test suite checks both.
Validation that does not depend on the backend lives here, so both refuse the same inputs.
"""

from __future__ import annotations

import abc
import dataclasses
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class StoreError(Exception):
    """Something the online store could not do; the message says what, where and what to do."""


class StoreUnavailableError(StoreError):
    """The backend cannot be reached (server down, store closed, file locked for too long)."""


class UserForgottenError(StoreError):
    """An append for a user key that was forgotten: its tombstone forbids new history."""


class UnknownImpressionError(StoreError):
    """A click names a request id that was never logged, or an item that request did not show."""


class DuplicateImpressionError(StoreError):
    """An impression was logged twice under one request id (request ids must be unique)."""


@dataclass(frozen=True)
class StoredEvent:
    """One user event as the model reads it; field names follow `rtrec.contract`'s columns.

    `seq` is the arrival order within the user, assigned by the store on append (whatever the
    caller passes is replaced), so that events with equal timestamps keep a stable order.
    """

    item_id: str
    event_type: str
    timestamp: float
    value: float | None = None
    query: str = ""
    session_id: str = ""
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredEvent:
        return cls(**data)


@dataclass(frozen=True)
class StoredItem:
    """An item added through the gateway's API, with its content vector, upserted by `item_id`."""

    item_id: str
    title: str
    description: str = ""
    category: str = ""
    text: str = ""
    vector: list[float] = field(default_factory=list)
    added_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredItem:
        return cls(**{**data, "vector": [float(x) for x in data.get("vector", [])]})


@dataclass(frozen=True)
class Impression:
    """A list of items shown for one request, the arm that served it, and the clicks it got.

    `clicks` maps an item id to the time of its first click; an impression counts as clicked in
    the A/B report when any of its items was clicked.
    """

    request_id: str
    user_key: str
    arm: str
    model_version: str
    item_ids: tuple[str, ...]
    at: float
    clicks: Mapping[str, float] = field(default_factory=dict)

    @property
    def clicked(self) -> bool:
        return bool(self.clicks)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "item_ids": list(self.item_ids)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Impression:
        clicks = dict(data.get("clicks", {}))
        return cls(**{**data, "item_ids": tuple(data["item_ids"]), "clicks": clicks})


_HEX_KEY = re.compile(r"[0-9a-f]{8,128}")


def check_user_key(user_key: str) -> None:
    """Refuse anything but a pseudonymized key, so a raw user id can never reach the store."""
    if not isinstance(user_key, str) or not _HEX_KEY.fullmatch(user_key):
        raise ValueError(
            f"user key {user_key!r} is not a pseudonymized key (8 to 128 lowercase hex digits): "
            "pseudonymize the user id (HMAC-SHA256, as ingestion does) before it reaches the store"
        )


def check_events(events: Sequence[StoredEvent], keep_last: int) -> None:
    """Refuse inputs that would corrupt the time order both backends sort by."""
    if not isinstance(keep_last, int) or keep_last < 1:
        raise ValueError(f"keep_last must be a positive int, got {keep_last!r}")
    for event in events:
        if not isinstance(event, StoredEvent):
            raise TypeError(f"append_events takes StoredEvent objects, got {type(event).__name__}")
        if not math.isfinite(event.timestamp):
            raise ValueError(f"event for item {event.item_id!r} has timestamp {event.timestamp!r}")


def check_time(at: float, what: str) -> None:
    """Times are Unix seconds; the Redis impression index orders them as fixed-width text."""
    if not (math.isfinite(at) and 0 <= at < 1e11):
        raise ValueError(f"{what} time {at!r} is not a Unix time in seconds (0 <= t < 1e11)")


def event_order(event: StoredEvent) -> tuple[float, int]:
    """The one order of a user's history: by timestamp, then by arrival."""
    return (event.timestamp, event.seq)


class OnlineStore(abc.ABC):
    """Per-user state the gateway reads and writes on every request.

    Every method is safe to call from several threads at once. Writes are atomic: a reader
    sees an append, a forget or a click entirely or not at all. A method returning means the
    write is durable as far as the backend is configured to make it (see each backend).
    """

    @abc.abstractmethod
    def append_events(
        self, user_key: str, events: Sequence[StoredEvent], keep_last: int
    ) -> list[StoredEvent]:
        """Append `events`, keep the `keep_last` most recent, return the history in time order.

        The store numbers the events (`seq`) in arrival order. Raises `UserForgottenError` for a
        tombstoned key: a forgotten user must not get a history again.
        """

    @abc.abstractmethod
    def events(self, user_key: str) -> list[StoredEvent]:
        """The user's stored events in time order (empty for an unknown or forgotten user)."""

    @abc.abstractmethod
    def forget_user(self, user_key: str, at: float | None = None) -> bool:
        """Delete the user's history and record a tombstone; True when there was history.

        The tombstone keeps the time of the first forget (now when `at` is None).
        """

    @abc.abstractmethod
    def is_forgotten(self, user_key: str) -> bool:
        """Whether the key has a tombstone."""

    @abc.abstractmethod
    def tombstones(self) -> dict[str, float]:
        """Every forgotten key and when it was forgotten."""

    @abc.abstractmethod
    def put_items(self, items: Sequence[StoredItem]) -> None:
        """Insert or replace items by `item_id`."""

    @abc.abstractmethod
    def items(self) -> list[StoredItem]:
        """Every item added through the API, by (added_at, item_id)."""

    @abc.abstractmethod
    def item(self, item_id: str) -> StoredItem | None:
        """One added item, or None."""

    @abc.abstractmethod
    def log_impression(
        self,
        request_id: str,
        user_key: str,
        arm: str,
        model_version: str,
        item_ids: Sequence[str],
        at: float,
    ) -> None:
        """Record what one request showed; raises `DuplicateImpressionError` for a reused id."""

    @abc.abstractmethod
    def impression(self, request_id: str) -> Impression | None:
        """One logged impression with its clicks, or None."""

    @abc.abstractmethod
    def record_click(self, request_id: str, item_id: str, at: float) -> bool:
        """Attribute a click to a logged impression; True when this call recorded it.

        Idempotent per (request_id, item_id): a repeated click returns False and keeps the
        first click's time. Raises `UnknownImpressionError` when the request was not logged or did
        not show the item, because a click that cannot be attributed would bias the A/B test.
        """

    @abc.abstractmethod
    def impressions(self) -> Iterator[Impression]:
        """Every impression with its clicks, by (at, request_id), read in pages."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Return when the backend answers; raise `StoreUnavailableError` otherwise."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; later calls raise `StoreUnavailableError`."""

    def __enter__(self) -> OnlineStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
