"""Each rejection reason, clock-skew clamping, pseudonymization and item validation."""

from __future__ import annotations

import pytest

from rtrec import reasons as r
from rtrec.validation import (
    Event,
    EventParser,
    Item,
    RawRow,
    Rejection,
    parse_item,
    parse_timestamp,
    pseudonymize,
)

NOW = 1_750_000_000.0
GOOD = {
    "user_id": "u1",
    "item_id": "i1",
    "event_type": "click",
    "timestamp": "1700000000",
    "value": "",
    "query": "",
    "session_id": "",
}


def _row(**changes) -> RawRow:
    return RawRow("events.csv", 0, 3, 5, {**GOOD, **changes}, "")


def _parse(row: RawRow):
    return EventParser(b"k", NOW, 3600, 50).parse(row)


def test_valid_event_is_parsed_and_pseudonymized():
    event, notes = _parse(_row(value="4.5"))
    assert isinstance(event, Event)
    assert event.user == pseudonymize("u1", b"k") != "u1"
    assert (event.item, event.event_type, event.ts, event.value) == ("i1", "click", 1.7e9, 4.5)
    assert event.order == (0, 3) and notes == {}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"user_id": " "}, r.MISSING_USER_ID),
        ({"event_type": "teleport"}, r.BAD_EVENT_TYPE),
        ({"item_id": ""}, r.MISSING_ITEM_ID),
        ({"timestamp": "not-a-time"}, r.BAD_TIMESTAMP),
        ({"timestamp": "2025-13-45"}, r.BAD_TIMESTAMP),
        ({"timestamp": ""}, r.BAD_TIMESTAMP),
        ({"value": "abc"}, r.BAD_VALUE),
        ({"value": "nan"}, r.BAD_VALUE),
        ({"event_type": "search", "item_id": "", "query": ""}, r.MISSING_QUERY),
        ({"timestamp": str(NOW + 3601)}, r.FUTURE_TIMESTAMP),
    ],
)
def test_each_rejection_reason(changes, reason):
    rejected, _ = _parse(_row(**changes))
    assert isinstance(rejected, Rejection)
    assert rejected.reason == reason
    assert (rejected.source, rejected.line) == ("events.csv", 5)
    if rejected.row and rejected.row.get("user_id"):
        assert rejected.row["user_id"] != "u1", "dead letters hold no raw user ids"


def test_malformed_row_keeps_raw_text():
    rejected, _ = _parse(RawRow("e.csv", 0, 0, 2, None, "u1,i1"))
    assert rejected.reason == r.MALFORMED_ROW and rejected.raw == "u1,i1"


def test_the_reader_s_reason_and_detail_reach_the_dead_letter():
    raw = RawRow("e.csv", 0, 0, 7, None, "u1,caf\\xe9", r.BAD_BYTES, "byte 0xe9 is not UTF-8")
    rejected, _ = _parse(raw)
    assert (rejected.reason, rejected.line, rejected.detail) == (r.BAD_BYTES, 7, raw.detail)
    item, _ = parse_item(raw, 10)
    assert (item.reason, item.raw) == (r.BAD_BYTES, raw.raw)


def test_small_clock_skew_is_clamped_and_counted():
    event, notes = _parse(_row(timestamp=str(NOW + 10)))
    assert event.ts == NOW and notes == {r.CLAMPED_TIMESTAMPS: 1}


def test_search_without_item_is_valid_and_long_query_truncated():
    event, notes = _parse(_row(event_type="search", item_id="", query="x" * 80))
    assert isinstance(event, Event) and len(event.query) == 50
    assert notes == {r.TRUNCATED_QUERIES: 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000", 1.7e9),
        ("1700000000.5", 1700000000.5),
        ("2023-11-14T22:13:20Z", 1.7e9),
        ("2023-11-14T22:13:20", 1.7e9),
        ("2023-11-14T23:13:20+01:00", 1.7e9),
        ("garbage", None),
        ("inf", None),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


def test_items_validated_and_truncated():
    ok, truncated = parse_item(
        RawRow("i.csv", 0, 0, 2, {"item_id": "a", "title": " Red  phone ", "category": "A|B"}, ""),
        10,
    )
    assert isinstance(ok, Item) and ok.title == "Red phone" and ok.categories == ("A", "B")
    assert truncated == 0 and ok.text.startswith("Red phone. A / B")
    long_row = {"item_id": "a", "title": "t", "description": "d" * 20}
    item, truncated = parse_item(RawRow("i.csv", 0, 1, 3, long_row, ""), 10)
    assert truncated == 1 and len(item.description) == 10
    empty, _ = parse_item(RawRow("i.csv", 0, 2, 4, {"item_id": "a", "title": ""}, ""), 10)
    assert empty.reason == r.EMPTY_TITLE
