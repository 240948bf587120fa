"""Tests for cleaning contract tables into an interaction log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtrec.data.tables import InputError
from rtrec.evaluation.interactions import build_interactions, load_interactions, parse_timestamps

ITEMS = pd.DataFrame(
    {
        "item_id": ["a", "b", "c", "", "b"],
        "title": ["A", "B", "C", "no id", "B again"],
    }
)


def _events(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "item_id", "event_type", "timestamp"])


def test_drops_each_bad_row_under_its_first_reason() -> None:
    events = _events(
        [
            ("u1", "a", "view", "100"),  # kept
            ("", "a", "view", "100"),  # missing_user_id
            ("u1", "a", "teleport", "100"),  # unknown_event_type
            ("u1", "", "search", "100"),  # search_event
            ("u1", "", "click", "100"),  # missing_item_id
            ("u1", "zzz", "click", "100"),  # unknown_item
            ("u1", "a", "click", "yesterday"),  # bad_timestamp
            ("u1", "a", "view", "100"),  # duplicate of row 0
            ("u2", "b", " Purchase ", "2021-01-01T00:00:00Z"),  # kept (normalised type)
        ]
    )
    log = build_interactions(events, ITEMS)
    assert log.dropped == {
        "catalog_missing_item_id": 1,
        "catalog_duplicate_item_id": 1,
        "missing_user_id": 1,
        "unknown_event_type": 1,
        "search_event": 1,
        "missing_item_id": 1,
        "unknown_item": 1,
        "bad_timestamp": 1,
        "duplicate": 1,
    }
    assert log.events["order"].tolist() == [0, 8]
    assert log.events["event_type"].tolist() == ["view", "purchase"]
    assert log.user_ids.tolist() == ["u1", "u2"]
    assert log.events["item"].tolist() == [0, 1]
    assert log.events["timestamp"].tolist() == [100.0, 1609459200.0]


def test_item_index_is_the_whole_catalog_even_unused_items() -> None:
    log = build_interactions(_events([("u1", "b", "view", "1")]), ITEMS)
    assert log.item_ids.tolist() == ["a", "b", "c"]
    assert log.n_items == 3
    assert list(log.items.columns) == [
        "item_id",
        "title",
        "description",
        "category",
        "created_at",
    ]


def test_a_bad_row_never_hides_a_later_valid_duplicate() -> None:
    events = _events([("u1", "zzz", "view", "1"), ("u1", "a", "view", "1")])
    events.loc[0, "item_id"] = "a"
    events.loc[0, "timestamp"] = "not a time"
    log = build_interactions(events, ITEMS)
    assert log.dropped["bad_timestamp"] == 1
    assert log.dropped["duplicate"] == 0
    assert len(log.events) == 1


def test_value_is_numeric_or_nan() -> None:
    events = _events([("u1", "a", "rate", "1"), ("u1", "b", "rate", "2")])
    events["value"] = ["4.5", ""]
    values = build_interactions(events, ITEMS).events["value"].to_numpy()
    assert values[0] == 4.5 and np.isnan(values[1])


def test_parse_timestamps_reads_unix_seconds_and_iso_8601() -> None:
    raw = pd.Series(
        ["1700000000", "1.5", "2020-01-01", "2020-01-01T01:00:00+01:00", "01/02/2020", "", "inf"]
    )
    parsed = parse_timestamps(raw)
    assert parsed[:4].tolist() == [1700000000.0, 1.5, 1577836800.0, 1577836800.0]
    assert np.isnan(parsed[4:]).all()


def test_missing_required_column_names_the_column() -> None:
    with pytest.raises(InputError, match="timestamp"):
        build_interactions(pd.DataFrame({"user_id": [], "item_id": [], "event_type": []}), ITEMS)


def test_load_interactions_reads_files(tmp_path) -> None:
    events_path = tmp_path / "events.jsonl"
    _events([("u1", "a", "view", "5")]).to_json(events_path, orient="records", lines=True)
    items_path = tmp_path / "items.csv"
    ITEMS.to_csv(items_path, index=False)
    log = load_interactions(str(events_path), str(items_path))
    assert len(log.events) == 1 and log.n_items == 3
