"""Bigger inputs for the scaling benchmark: a sample world's events, replicated N times.

Copy 0 is the world as generated; copy k gives every user (and session) a new id (``-xK``
appended) and shifts each parseable timestamp k minutes later. Items are shared. So N copies
are N times the same population: the same dirt, bots, duplicates and cold items per copy,
which makes every count exactly N times the original and keeps the events per user (the
work per key in the sessionize step) the same at every scale. Growing the world with
``rtrec generate --size large`` would change the catalog and users per item as well.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from rtrec import contract as c
from rtrec.data.tables import write_table

SHIFT_PER_COPY_S = 60
"""Minutes, not days: copies stay inside the world's half year and before its `now`."""
_UNIX = r"\d{10}"
_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def replicate(events: pd.DataFrame, copy: int) -> pd.DataFrame:
    """Copy number ``copy`` of ``events`` (0 is ``events`` itself); rows stay in order.

    Empty user ids stay empty (they are planted defects), and so do unparseable timestamps.
    """
    if copy == 0:
        return events
    out = events.copy()
    suffix = f"-x{copy}"
    for column in (c.USER_ID, c.SESSION_ID):
        if column in out:
            ids = out[column].astype(str)
            out[column] = np.where(ids != "", ids + suffix, ids)
    out[c.TIMESTAMP] = shift_timestamps(out[c.TIMESTAMP], copy * SHIFT_PER_COPY_S)
    return out


def shift_timestamps(stamps: pd.Series, seconds: int) -> pd.Series:
    """Unix-seconds and ``...T..Z`` strings moved by ``seconds``, in their own format."""
    text = stamps.astype(str)
    out = text.copy()
    unix = text.str.fullmatch(_UNIX)
    out[unix] = (text[unix].astype(np.int64) + seconds).astype(str)
    iso = text.str.fullmatch(_ISO)
    parsed = pd.to_datetime(text[iso], format="%Y-%m-%dT%H:%M:%SZ", errors="coerce", utc=True)
    valid = parsed.notna()
    moved = parsed[valid] + pd.Timedelta(seconds=seconds)
    out[valid[valid].index] = moved.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def write_scaled(events: pd.DataFrame, items: pd.DataFrame, copies: int, out_dir: str, fmt: str):
    """Write ``copies`` copies of ``events`` as one file each (a folder) plus the items file;
    returns the ``events`` and ``items`` paths ingestion takes."""
    events_dir = os.path.join(out_dir, "events")
    os.makedirs(events_dir, exist_ok=True)
    for copy in range(copies):
        write_table(replicate(events, copy), os.path.join(events_dir, f"part-{copy:04d}.{fmt}"))
    items_path = write_table(items, os.path.join(out_dir, f"items.{fmt}"))
    return {"events": events_dir, "items": items_path}
