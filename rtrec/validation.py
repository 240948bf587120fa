"""Validation of single event and item rows against the input contract, with reason codes.

Every row becomes either a typed record or a :class:`Rejection` carrying one reason code from
``rtrec/reasons.py``; nothing raises on bad data. User ids are pseudonymized here, the first
place they are touched, so no raw user id reaches any output except an unparseable row's raw
text. Ingestion's file readers and the gateway's event API both hand rows to these rules, so an
event the API accepts is an event the next pipeline run accepts.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import NamedTuple

from rtrec import contract as c
from rtrec import reasons as r
from rtrec.timeline import Event, pseudonymize

_EVENT_TYPES = frozenset(c.EVENT_TYPES)


class RawRow(NamedTuple):
    """One input row: where it came from and its fields (None when it could not be split)."""

    source: str
    file_index: int
    row: int
    """0-based data-row index in its file: the input order, equal across formats."""
    line: int
    """1-based line in the file (CSV/JSONL) or row number (Parquet), for error messages."""
    fields: dict[str, str] | None
    raw: str
    """The original text, kept for dead-lettering rows that could not be split into fields."""
    reason: str = ""
    """Why ``fields`` is None: a reason code (``malformed_row``, ``bad_bytes``)."""
    detail: str = ""
    """What exactly was wrong, for the dead letter."""


class Item(NamedTuple):
    """A valid catalog item; ``text`` is what the content tower reads."""

    item_id: str
    title: str
    description: str
    categories: tuple[str, ...]
    created_at: float | None
    order: tuple[int, int]
    source: str = ""
    line: int = 0

    def content(self) -> tuple:
        """What two rows of one item id must agree on to be duplicates rather than a conflict."""
        return (self.title, self.description, self.categories, self.created_at)

    @property
    def text(self) -> str:
        return c.item_text(self.title, self.categories, self.description)


class Rejection(NamedTuple):
    """A dead-lettered row: its reason, where it was, and what it held."""

    reason: str
    source: str
    line: int
    row: dict[str, str] | None
    raw: str
    detail: str

    def to_record(self) -> dict:
        return {
            "reason": self.reason,
            "detail": self.detail,
            "source": self.source,
            "line": self.line,
            "row": self.row,
            "raw": self.raw or None,
        }


def parse_timestamp(text: str) -> float | None:
    """Unix seconds (int or float) or ISO-8601 (naive means UTC) to Unix seconds; None if bad."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return value if math.isfinite(value) else None


def _unreadable(raw: RawRow) -> tuple[str, str]:
    """Reason and detail for a row the reader could not split into fields."""
    return raw.reason or r.MALFORMED_ROW, raw.detail or "row could not be split into fields"


class EventParser:
    """Turns raw event rows into :class:`Event` or :class:`Rejection`.

    ``now`` and ``max_clock_skew_s`` implement clock-skew handling: events slightly in the future
    (clients with fast clocks) are clamped to ``now``; events beyond the skew are rejected.
    """

    def __init__(self, key: bytes, now: float, max_clock_skew_s: float, max_text_chars: int):
        self.key = key
        self.now = now
        self.max_skew = max_clock_skew_s
        self.max_text = max_text_chars

    def _reject(self, raw: RawRow, reason: str, detail: str) -> Rejection:
        row = dict(raw.fields) if raw.fields is not None else None
        if row and row.get(c.USER_ID):
            row[c.USER_ID] = pseudonymize(row[c.USER_ID], self.key)
        return Rejection(reason, raw.source, raw.line, row, raw.raw, detail)

    def parse(self, raw: RawRow) -> tuple[Event | Rejection, dict[str, int]]:
        """Return the parsed event (or rejection) and annotation counters (clamps, truncations)."""
        notes: dict[str, int] = {}
        f = raw.fields
        if f is None:
            reason, detail = _unreadable(raw)
            return self._reject(raw, reason, detail), notes
        user = f.get(c.USER_ID, "").strip()
        item = f.get(c.ITEM_ID, "").strip()
        etype = f.get(c.EVENT_TYPE, "").strip().lower()
        query = f.get(c.QUERY, "").strip()
        if not user:
            return self._reject(raw, r.MISSING_USER_ID, "user_id is empty"), notes
        if etype not in _EVENT_TYPES:
            detail = f"event_type {etype!r} is not one of {list(c.EVENT_TYPES)}"
            return self._reject(raw, r.BAD_EVENT_TYPE, detail), notes
        if not item and etype != c.SEARCH:
            return self._reject(raw, r.MISSING_ITEM_ID, f"item_id is empty on a {etype}"), notes
        if etype == c.SEARCH and not query:
            return self._reject(raw, r.MISSING_QUERY, "search event without query text"), notes
        ts = parse_timestamp(f.get(c.TIMESTAMP, ""))
        if ts is None:
            detail = f"timestamp {f.get(c.TIMESTAMP, '')!r} is neither Unix seconds nor ISO-8601"
            return self._reject(raw, r.BAD_TIMESTAMP, detail), notes
        if ts > self.now + self.max_skew:
            detail = f"timestamp {ts:.0f} is {ts - self.now:.0f}s after now ({self.now:.0f})"
            return self._reject(raw, r.FUTURE_TIMESTAMP, detail), notes
        if ts > self.now:
            ts = self.now
            notes[r.CLAMPED_TIMESTAMPS] = 1
        value_text = f.get(c.VALUE, "").strip()
        value = None
        if value_text:
            try:
                value = float(value_text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                return self._reject(
                    raw, r.BAD_VALUE, f"value {value_text!r} is not a number"
                ), notes
        if len(query) > self.max_text:
            query = query[: self.max_text]
            notes[r.TRUNCATED_QUERIES] = 1
        event = Event(
            user=pseudonymize(user, self.key),
            item=item,
            event_type=etype,
            ts=ts,
            value=value,
            query=query,
            session=f.get(c.SESSION_ID, "").strip(),
            order=(raw.file_index, raw.row),
        )
        return event, notes


def parse_item(raw: RawRow, max_text_chars: int) -> tuple[Item | Rejection, int]:
    """Return the item (or rejection) and 1 if its text had to be truncated."""
    f = raw.fields
    if f is None:
        reason, detail = _unreadable(raw)
        return Rejection(reason, raw.source, raw.line, None, raw.raw, detail), 0
    item_id = f.get(c.ITEM_ID, "").strip()
    title = " ".join(f.get(c.TITLE, "").split())
    if not item_id:
        return Rejection(r.MISSING_ITEM_ID, raw.source, raw.line, f, "", "item_id is empty"), 0
    if not title:
        return Rejection(r.EMPTY_TITLE, raw.source, raw.line, f, "", "title is empty"), 0
    description = " ".join(f.get(c.DESCRIPTION, "").split())
    truncated = 0
    if len(title) > max_text_chars or len(description) > max_text_chars:
        title, description = title[:max_text_chars], description[:max_text_chars]
        truncated = 1
    categories = c.split_categories(f.get(c.CATEGORY, ""))
    created = parse_timestamp(f.get(c.CREATED_AT, ""))
    order = (raw.file_index, raw.row)
    item = Item(item_id, title, description, categories, created, order, raw.source, raw.line)
    return item, truncated


def conflicting_duplicate(kept: Item, other: Item) -> Rejection:
    """The dead letter of a later row of ``kept``'s id that disagrees with it."""
    names = ("title", "description", "category", "created_at")
    differ = [n for n, a, b in zip(names, kept.content(), other.content()) if a != b]
    detail = (
        f"item_id {kept.item_id!r} first appears at {kept.source} line {kept.line} (kept); this "
        f"row differs in {', '.join(differ)} (title here {other.title!r}, kept {kept.title!r})"
    )
    row = {
        c.ITEM_ID: other.item_id,
        c.TITLE: other.title,
        c.DESCRIPTION: other.description,
        c.CATEGORY: c.CATEGORY_SEPARATOR.join(other.categories),
        c.CREATED_AT: "" if other.created_at is None else f"{other.created_at:g}",
    }
    return Rejection(r.CONFLICTING_DUPLICATE, other.source, other.line, row, "", detail)
