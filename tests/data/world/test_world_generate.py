"""Determinism, sizes and manifest shape of the generated sample world."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rtrec import contract
from rtrec.data.world import SIZES, World, generate_world
from rtrec.data.world.sizes import END_S, START_S, get_size


def test_same_seed_gives_identical_frames(tiny: World) -> None:
    again = generate_world("tiny", tiny.manifest["seed"])
    pd.testing.assert_frame_equal(tiny.items, again.items)
    pd.testing.assert_frame_equal(tiny.events, again.events)
    assert tiny.manifest == again.manifest


def test_different_seed_differs(tiny: World) -> None:
    other = generate_world("tiny", tiny.manifest["seed"] + 1)
    assert not tiny.events.equals(other.events)
    assert not tiny.items.equals(other.items)


def test_tiny_sizes(tiny: World) -> None:
    m = tiny.manifest
    assert 140 <= m["n_items"] <= 160
    assert m["n_item_rows"] == len(tiny.items) > m["n_items"]
    assert tiny.events[contract.USER_ID].replace("", pd.NA).dropna().nunique() >= 80
    assert 4_000 <= len(tiny.events) <= 6_000
    assert m["n_event_rows"] == len(tiny.events)


def test_columns_follow_contract_and_cells_are_strings(tiny: World) -> None:
    assert list(tiny.events.columns) == list(contract.EVENT_COLUMNS)
    assert list(tiny.items.columns) == list(contract.ITEM_COLUMNS)
    for frame in (tiny.events, tiny.items):
        assert frame.applymap(lambda v: isinstance(v, str)).all().all()


def test_manifest_is_json_and_complete(tiny: World) -> None:
    m = json.loads(json.dumps(tiny.manifest))
    for key in (
        "n_event_rows",
        "n_item_rows",
        "n_clean_events",
        "start",
        "end",
        "seed",
        "size",
        "late_item_ids_count",
        "dirt",
    ):
        assert key in m
    assert m["start"] == "2025-01-01T00:00:00Z"
    assert pd.Timestamp(m["end"]).timestamp() == END_S
    assert pd.Timestamp(m["start"]).timestamp() == START_S
    assert m["size"] == "tiny"


def test_row_accounting_adds_up(tiny: World) -> None:
    dirt = tiny.manifest["dirt"]
    not_rows = {"bot_users", "empty_title_items", "oversized_text_items", "duplicate_item_rows"}
    event_dirt = sum(v for k, v in dirt.items() if k not in not_rows)
    assert tiny.manifest["n_clean_events"] + event_dirt == tiny.manifest["n_event_rows"]
    assert len(tiny.clean_events()) == tiny.manifest["n_clean_events"]


def test_unknown_size_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="tiny"):
        get_size("huge")


def test_sizes_grow() -> None:
    names = ["tiny", "small", "default", "large"]
    assert list(SIZES) == names
    items = [SIZES[n].n_items for n in names]
    assert items == sorted(items)
    assert SIZES["large"].target_events == 10 * SIZES["default"].target_events
