"""The manifest's defect counts match what can be re-derived from the written tables."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rtrec import contract
from rtrec.contract import MAX_TEXT_CHARS
from rtrec.data.world import World
from rtrec.data.world.sizes import END_S

Parser = Callable[[pd.Series], np.ndarray]


def rederived_event_dirt(world: World, seconds: Parser) -> dict[str, int]:
    """Count each defect from the events table alone, the way ingestion would see it."""
    ev = world.events
    catalog_ids = set(world.items[contract.ITEM_ID])
    ts = seconds(ev[contract.TIMESTAMP])
    etype = ev[contract.EVENT_TYPE]
    rate = etype == contract.RATE
    item = ev[contract.ITEM_ID]
    return {
        "missing_user_id": int((ev[contract.USER_ID] == "").sum()),
        "bad_event_type": int((~etype.isin(contract.EVENT_TYPES)).sum()),
        "bad_timestamp": int(np.isnan(ts).sum()),
        "future_timestamp": int((ts >= END_S).sum()),
        "bad_value": int((rate & ~ev[contract.VALUE].str.fullmatch(r"[1-5]")).sum()),
        "missing_query": int(((etype == contract.SEARCH) & (ev[contract.QUERY] == "")).sum()),
        "unknown_item": int(((item != "") & ~item.isin(catalog_ids)).sum()),
        "duplicates": int(ev.duplicated().sum()),
        "bot_events": int(ev[contract.USER_ID].isin(world.truth.bot_user_ids).sum()),
        "bot_users": len(world.truth.bot_user_ids),
    }


def test_event_dirt_counts_are_exact(tiny: World, seconds: Parser) -> None:
    item_keys = ("empty_title_items", "oversized_text_items", "duplicate_item_rows")
    expected = {k: v for k, v in tiny.manifest["dirt"].items() if k not in item_keys}
    assert rederived_event_dirt(tiny, seconds) == expected


def test_every_event_defect_is_present_at_a_sane_rate(tiny: World) -> None:
    n = tiny.manifest["n_event_rows"]
    dirt = tiny.manifest["dirt"]
    for key in (
        "missing_user_id",
        "bad_event_type",
        "bad_timestamp",
        "bad_value",
        "missing_query",
        "unknown_item",
        "future_timestamp",
    ):
        assert 1 <= dirt[key] <= 0.006 * n, key
    assert 0.005 * n <= dirt["duplicates"] <= 0.015 * n
    assert dirt["bot_users"] >= 1


def test_each_dirty_row_has_one_defect(tiny: World, seconds: Parser) -> None:
    ev, labels = tiny.events, tiny.truth.event_defects
    for name, count in pd.Series(labels[labels != ""]).value_counts().items():
        assert tiny.manifest["dirt"][name] == count
    clean = ev[labels == ""]
    ts = seconds(clean[contract.TIMESTAMP])
    assert not np.isnan(ts).any() and (ts < END_S).all()
    assert (clean[contract.USER_ID] != "").all()
    assert clean[contract.EVENT_TYPE].isin(contract.EVENT_TYPES).all()
    assert not clean.duplicated().any()
    rows_with_value = clean[contract.VALUE] != ""
    assert (rows_with_value == (clean[contract.EVENT_TYPE] == contract.RATE)).all()


def test_item_dirt_counts_are_exact(tiny: World) -> None:
    items, dirt = tiny.items, tiny.manifest["dirt"]
    assert int((items[contract.TITLE] == "").sum()) == dirt["empty_title_items"] >= 1
    oversized = items[contract.DESCRIPTION].str.len() > MAX_TEXT_CHARS
    assert int(oversized.sum()) == dirt["oversized_text_items"] >= 1
    assert int(items.duplicated().sum()) == dirt["duplicate_item_rows"] >= 1
    assert items[contract.ITEM_ID].nunique() == tiny.manifest["n_items"]
    assert len(tiny.truth.item_defects) == len(items)
