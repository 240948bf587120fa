"""Turn simulated events into the written event table: strings, dirt, and a realistic row order.

Rows come out in time order, except that duplicates land a few rows after their original, bot
bursts interleave with everyone else, and about 2% of rows are nudged a few places out of order,
as in a log merged from several servers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtrec import contract as c
from rtrec.data.world import dirt
from rtrec.data.world.behaviour import EventLog
from rtrec.data.world.catalog import Catalog

OUT_OF_ORDER_SHARE = 0.02
# How far (in rows) an out-of-order row moves, and how far after its original a duplicate lands.
OUT_OF_ORDER_SHIFT = (1.5, 12.0)
DUPLICATE_SHIFT = (0.01, 4.0)


@dataclass(frozen=True)
class EventTable:
    """The event table as written, with the defect label of each row ('' when clean)."""

    frame: pd.DataFrame
    defect: np.ndarray
    counts: dict[str, int]
    iso_rows: int
    out_of_order_rows: int


def event_table(
    log: EventLog, bots: EventLog, catalog: Catalog, rng: np.random.Generator
) -> EventTable:
    """Render clean and bot events as strings, plant the dirt and put rows in log order."""
    n_users = int(max(log.user.max(), bots.user.max())) + 1
    cols = _strings(log, catalog, n_users, rng)
    defect, duplicate_of, counts = dirt.corrupt_events(cols, log.event_type, catalog.n_items, rng)
    bot_cols = _strings(bots, catalog, n_users, rng)

    n = len(log)
    key = np.arange(n, dtype=np.float64)
    movable = np.flatnonzero(defect == "")
    moved = rng.choice(movable, round(OUT_OF_ORDER_SHARE * n), replace=False)
    shift = rng.uniform(*OUT_OF_ORDER_SHIFT, len(moved)) * rng.choice((-1.0, 1.0), len(moved))
    key[moved] += shift
    dup_key = duplicate_of + rng.uniform(*DUPLICATE_SHIFT, len(duplicate_of))
    # Bots slot in by time; ties keep their own order because the sort below is stable.
    bot_key = np.searchsorted(log.ts, bots.ts, side="left") - 0.5

    all_key = np.concatenate([key, dup_key, bot_key])
    order = np.argsort(all_key, kind="stable")
    frame = pd.DataFrame(
        {
            name: np.concatenate([cols[name], cols[name][duplicate_of], bot_cols[name]])[order]
            for name in c.EVENT_COLUMNS
        },
        columns=list(c.EVENT_COLUMNS),
    )
    labels = np.concatenate(
        [
            defect,
            np.full(len(duplicate_of), "duplicates", dtype=object),
            np.full(len(bots), "bot_events", dtype=object),
        ]
    )[order]
    counts["bot_users"] = int(len(np.unique(bots.user)))
    counts["bot_events"] = len(bots)
    iso_like = frame[c.TIMESTAMP].str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    iso = int((iso_like & (labels != "bad_timestamp")).sum())
    return EventTable(frame, labels, counts, iso, len(moved))


def _strings(
    log: EventLog, catalog: Catalog, n_users: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The contract's event columns as object arrays of strings, '' where a value is missing."""
    user_ids = np.array([f"u{k:06d}" for k in range(1, n_users + 1)], dtype=object)
    item_ids = np.append(catalog.item_ids, "")  # index -1 (a search) maps to ''
    types = np.array(c.EVENT_TYPES, dtype=object)
    values = np.array([""] + [str(v) for v in range(1, 6)], dtype=object)
    return {
        c.USER_ID: user_ids[log.user],
        c.ITEM_ID: item_ids[log.item],
        c.EVENT_TYPE: types[log.event_type],
        c.TIMESTAMP: dirt.format_timestamps(log.ts, rng),
        c.VALUE: values[log.value],
        c.QUERY: log.query.astype(object).copy(),
        c.SESSION_ID: np.array([f"s{s:07d}" for s in log.session + 1], dtype=object),
    }
