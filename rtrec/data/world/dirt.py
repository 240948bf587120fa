"""Known, countable defects planted in the sample world so ingestion can be checked exactly.

Each dirty row carries exactly one defect, and the generator records how many rows of each kind
it wrote, so a test can compare what ingestion dropped or repaired against the manifest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rtrec import contract as c
from rtrec.data.world import text
from rtrec.data.world.behaviour import CART, CLICK, PURCHASE, RATE, SEARCH, VIEW, EventLog
from rtrec.data.world.catalog import Catalog
from rtrec.data.world.sizes import END_S, START_S

# Share of clean events corrupted in place, one defect per row.
EVENT_DEFECT_RATES: dict[str, float] = {
    "missing_user_id": 0.004,
    "bad_event_type": 0.003,
    "bad_timestamp": 0.004,
    "bad_value": 0.003,
    "missing_query": 0.003,
    "unknown_item": 0.004,
    "future_timestamp": 0.003,
}
DUPLICATE_RATE = 0.01
BOT_USER_RATE = 0.003
BOT_EVENTS = (200, 500)  # per bot, drawn uniformly
BOT_EVENTS_PER_MINUTE = (250, 600)
EMPTY_TITLE_RATE = 0.01
OVERSIZED_TEXT_RATE = 0.01
DUPLICATE_ITEM_RATE = 0.002

BAD_EVENT_TYPES = ("teleport", "hover", "wishlist", "share")
BAD_TIMESTAMPS = ("not-a-time", "2025-13-45", "2025-02-30T25:61:00Z", "17x5689600")
BAD_VALUES = ("abc", "five", "xyz", "??")
FUTURE_FROM_S = 1_924_992_000  # 2031-01-01T00:00:00Z
FUTURE_TO_S = 2_082_758_400  # 2036-01-01T00:00:00Z
ISO_SHARE = 0.1


def draw_bots(
    n_users: int, first_session: int, catalog: Catalog, rng: np.random.Generator
) -> EventLog:
    """A few users who fire hundreds of views within minutes; rows are otherwise valid."""
    n_bots = max(1, round(BOT_USER_RATE * n_users))
    counts = rng.integers(BOT_EVENTS[0], BOT_EVENTS[1] + 1, n_bots)
    per_minute = rng.integers(BOT_EVENTS_PER_MINUTE[0], BOT_EVENTS_PER_MINUTE[1] + 1, n_bots)
    starts = rng.integers(START_S, END_S - 86_400, n_bots)
    early_items = np.flatnonzero(~catalog.late)  # bots never touch items before they exist
    users, ts, items = [], [], []
    for b in range(n_bots):
        span = counts[b] * 60.0 / per_minute[b]
        ts.append(starts[b] + np.sort((rng.random(counts[b]) * span).astype(np.int64)))
        # Walk a shuffled catalogue so the same item never repeats within the same second.
        order = rng.permutation(early_items)
        items.append(order[np.arange(counts[b]) % len(order)])
        users.append(np.full(counts[b], n_users + b))
    n = int(counts.sum())
    return EventLog(
        user=np.concatenate(users),
        item=np.concatenate(items),
        event_type=np.full(n, VIEW),
        ts=np.concatenate(ts),
        value=np.zeros(n, dtype=np.int64),
        query=np.full(n, "", dtype=object),
        session=np.repeat(first_session + np.arange(n_bots), counts),
        n_sessions=n_bots,
    )


def format_timestamps(ts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unix seconds as strings, with about one in ten written as ISO-8601 to exercise parsing."""
    out = ts.astype(np.int64).astype(str).astype(object)
    iso = rng.random(len(ts)) < ISO_SHARE
    out[iso] = iso_strings(ts[iso])
    return out


def iso_strings(ts: np.ndarray) -> np.ndarray:
    """Unix seconds as ``2025-03-04T10:11:12Z`` strings."""
    text_ = np.datetime_as_string(ts.astype(np.int64).astype("datetime64[s]"), unit="s")
    return (np.char.add(text_.astype(str), "Z")).astype(object)


def corrupt_events(
    cols: dict[str, np.ndarray], event_type: np.ndarray, n_items: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Corrupt clean rows in place and pick rows to duplicate.

    Returns the defect label of every row ('' when clean), the row numbers to duplicate and
    the exact count of each defect. ``cols`` holds string columns and is modified.
    """
    n = len(event_type)
    defect = np.full(n, "", dtype=object)
    counts: dict[str, int] = {}
    funnel = np.isin(event_type, (VIEW, CLICK, CART, PURCHASE))
    pools = {
        "bad_value": event_type == RATE,
        "missing_query": event_type == SEARCH,
        "unknown_item": np.isin(event_type, (VIEW, CLICK)),
        "bad_event_type": funnel,
        "missing_user_id": np.ones(n, dtype=bool),
        "bad_timestamp": np.ones(n, dtype=bool),
        "future_timestamp": np.ones(n, dtype=bool),
    }
    for name, eligible in pools.items():
        pool = np.flatnonzero(eligible & (defect == ""))
        k = min(max(1, round(EVENT_DEFECT_RATES[name] * n)), len(pool) // 2)
        rows = np.sort(rng.choice(pool, k, replace=False))
        defect[rows] = name
        counts[name] = int(k)
        _apply(name, rows, cols, n_items, rng)
    counts = {name: counts[name] for name in EVENT_DEFECT_RATES}
    pool = np.flatnonzero(defect == "")
    k = max(1, round(DUPLICATE_RATE * n))
    duplicate_of = np.sort(rng.choice(pool, k, replace=False))
    counts["duplicates"] = int(k)
    return defect, duplicate_of, counts


def _apply(
    name: str, rows: np.ndarray, cols: dict[str, np.ndarray], n_items: int, rng: np.random.Generator
) -> None:
    """Write one kind of defect into ``rows``."""
    k = len(rows)
    if name == "missing_user_id":
        cols[c.USER_ID][rows] = ""
    elif name == "bad_event_type":
        cols[c.EVENT_TYPE][rows] = np.array(BAD_EVENT_TYPES, dtype=object)[rng.integers(0, 4, k)]
    elif name == "bad_timestamp":
        cols[c.TIMESTAMP][rows] = np.array(BAD_TIMESTAMPS, dtype=object)[rng.integers(0, 4, k)]
    elif name == "bad_value":
        cols[c.VALUE][rows] = np.array(BAD_VALUES, dtype=object)[rng.integers(0, 4, k)]
    elif name == "missing_query":
        cols[c.QUERY][rows] = ""
    elif name == "unknown_item":
        unknown = n_items + 1 + rng.integers(0, 10 * n_items, k)
        cols[c.ITEM_ID][rows] = np.array([f"i{u:06d}" for u in unknown], dtype=object)
    elif name == "future_timestamp":
        cols[c.TIMESTAMP][rows] = format_timestamps(
            rng.integers(FUTURE_FROM_S, FUTURE_TO_S, k), rng
        )
    else:
        raise ValueError(f"unknown event defect {name!r}; known: {', '.join(EVENT_DEFECT_RATES)}")


def corrupt_items(
    items: pd.DataFrame, rng: np.random.Generator, used_ids: set[str] | None = None
) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    """Blank some titles, bloat some descriptions and repeat a few rows verbatim.

    Titles are blanked only on items no event refers to (``used_ids``), so a rejected catalog
    row never turns clean events into unknown-item rejections and every planted count stays
    exact. Returns the dirty item table (duplicates right after their original), the defect
    label of each of its rows and the exact count of each defect.
    """
    n = len(items)
    items = items.copy()
    chosen = rng.permutation(n)
    if used_ids is not None:
        unused = ~items[c.ITEM_ID].iloc[chosen].isin(used_ids).to_numpy()
        chosen = np.concatenate([chosen[unused], chosen[~unused]])
        n_empty = max(1, min(int(unused.sum()), round(EMPTY_TITLE_RATE * n)))
    else:
        n_empty = max(1, round(EMPTY_TITLE_RATE * n))
    n_big = max(1, round(OVERSIZED_TEXT_RATE * n))
    n_dup = max(2, round(DUPLICATE_ITEM_RATE * n))
    empty = np.sort(chosen[:n_empty])
    big = np.sort(chosen[n_empty : n_empty + n_big])
    dup = np.sort(chosen[n_empty + n_big : n_empty + n_big + n_dup])

    defect = np.full(n, "", dtype=object)
    defect[empty], defect[big] = "empty_title_items", "oversized_text_items"
    items.iloc[empty, items.columns.get_loc(c.TITLE)] = ""
    col = items.columns.get_loc(c.DESCRIPTION)
    items.iloc[big, col] = [text.oversized(d, rng) for d in items.iloc[big, col]]

    key = np.concatenate([np.arange(n, dtype=np.float64), dup + 0.5])
    order = np.argsort(key, kind="stable")
    out = pd.concat([items, items.iloc[dup]], ignore_index=True).iloc[order]
    labels = np.concatenate([defect, np.full(n_dup, "duplicate_item_rows", dtype=object)])[order]
    counts = {
        "empty_title_items": int(n_empty),
        "oversized_text_items": int(n_big),
        "duplicate_item_rows": int(n_dup),
    }
    return out.reset_index(drop=True), labels, counts
