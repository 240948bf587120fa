"""Turning contract event and item tables into a clean, integer-indexed interaction log.

Offline evaluation needs every model to see exactly the same events, so rows are cleaned once
here and each dropped row is counted under the first reason it fails, in this order:
``missing_user_id``, ``unknown_event_type``, ``search_event`` (no item to recommend),
``missing_item_id``, ``unknown_item`` (not in the catalog), ``bad_timestamp``, ``duplicate``
(an exact repeat of an earlier valid row). The item index is the whole catalog, in catalog
order, so models rank every item, including those nobody interacted with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtrec import contract as c
from rtrec.data.tables import InputError, read_table

# Leading calendar date: ISO-8601 strings are accepted, other date spellings are not.
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}"
_EPOCH = pd.Timestamp(0, tz="UTC")

#: Columns of ``InteractionLog.events``.
USER, ITEM, EVENT_TYPE, TIMESTAMP, VALUE, ORDER = (
    "user",
    "item",
    "event_type",
    "timestamp",
    "value",
    "order",
)


@dataclass(frozen=True)
class InteractionLog:
    """Clean events plus the catalog that defines the item index.

    ``events`` has one row per kept event, in input order, with columns ``user`` and ``item``
    (int64 indices into ``user_ids`` / ``item_ids``), ``event_type`` (str), ``timestamp``
    (float64 Unix seconds), ``value`` (float64, NaN when absent) and ``order`` (the row's
    position in the input table, used to break timestamp ties).
    """

    events: pd.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    items: pd.DataFrame
    dropped: dict[str, int]

    @property
    def n_users(self) -> int:
        """Number of users with at least one clean event."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """Catalog size: the number of items every model ranks."""
        return len(self.item_ids)


def load_interactions(events_path: str, items_path: str) -> InteractionLog:
    """Read event and item tables (CSV, JSONL or Parquet) and clean them into a log."""
    return build_interactions(read_table(events_path), read_table(items_path))


def build_interactions(events: pd.DataFrame, items: pd.DataFrame) -> InteractionLog:
    """Clean string contract tables into an ``InteractionLog``; see the module docstring."""
    catalog, dropped = _clean_catalog(items)
    item_index = pd.Index(catalog[c.ITEM_ID])

    _require(events, c.EVENT_REQUIRED_COLUMNS, "events")
    table = events.astype(str).reset_index(drop=True)
    users = table[c.USER_ID].str.strip()
    item_keys = table[c.ITEM_ID].str.strip()
    kinds = table[c.EVENT_TYPE].str.strip().str.lower()
    stamps = parse_timestamps(table[c.TIMESTAMP])
    item_codes = item_index.get_indexer(item_keys)

    failures = [
        ("missing_user_id", (users == "").to_numpy()),
        ("unknown_event_type", (~kinds.isin(c.EVENT_TYPES)).to_numpy()),
        ("search_event", (kinds == c.SEARCH).to_numpy()),
        ("missing_item_id", (item_keys == "").to_numpy()),
        ("unknown_item", item_codes < 0),
        ("bad_timestamp", np.isnan(stamps)),
    ]
    keep = np.ones(len(table), dtype=bool)
    for reason, failed in failures:
        dropped[reason] = int((keep & failed).sum())
        keep &= ~failed

    present = [col for col in c.EVENT_COLUMNS if col in table.columns]
    # Duplicates are judged among valid rows only, so a bad row never hides a good one.
    duplicate = np.zeros(len(table), dtype=bool)
    duplicate[np.flatnonzero(keep)] = table.loc[keep, present].duplicated(keep="first").to_numpy()
    dropped["duplicate"] = int(duplicate.sum())
    keep &= ~duplicate

    user_codes, user_ids = pd.factorize(users[keep], sort=False)
    values = (
        pd.to_numeric(table[c.VALUE], errors="coerce").to_numpy(dtype=np.float64)
        if c.VALUE in table.columns
        else np.full(len(table), np.nan)
    )
    clean = pd.DataFrame(
        {
            USER: user_codes.astype(np.int64),
            ITEM: item_codes[keep].astype(np.int64),
            EVENT_TYPE: kinds[keep].to_numpy(dtype=object),
            TIMESTAMP: stamps[keep],
            VALUE: values[keep],
            ORDER: np.flatnonzero(keep).astype(np.int64),
        }
    )
    return InteractionLog(
        events=clean,
        user_ids=np.asarray(user_ids, dtype=object),
        item_ids=catalog[c.ITEM_ID].to_numpy(dtype=object),
        items=catalog,
        dropped=dropped,
    )


def parse_timestamps(raw: pd.Series) -> np.ndarray:
    """Parse Unix seconds or ISO-8601 strings to float64 Unix seconds; NaN where neither parses.

    Both spellings appear in real exports (often in one file), so each value is read as a number
    first and as an ISO-8601 date-time (timezone-aware, UTC when none is given) otherwise.
    """
    text = raw.astype(str).str.strip()
    seconds = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    iso = np.isnan(seconds) & text.str.match(_ISO_DATE).to_numpy(dtype=bool)
    if iso.any():
        parsed = pd.to_datetime(text[iso], utc=True, errors="coerce")
        seconds[iso] = ((parsed - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)
    seconds[~np.isfinite(seconds)] = np.nan
    return seconds


def _clean_catalog(items: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep catalog rows with an item id, first row per id, every contract column present."""
    _require(items, c.ITEM_REQUIRED_COLUMNS, "items")
    catalog = items.astype(str).reset_index(drop=True).copy()
    for col in c.ITEM_COLUMNS:
        if col not in catalog.columns:
            catalog[col] = ""
    catalog[c.ITEM_ID] = catalog[c.ITEM_ID].str.strip()
    missing = (catalog[c.ITEM_ID] == "").to_numpy()
    repeated = catalog[c.ITEM_ID].duplicated(keep="first").to_numpy() & ~missing
    catalog = catalog[~missing & ~repeated].reset_index(drop=True)
    if catalog.empty:
        raise InputError("items: the catalog has no rows with an item_id; nothing can be ranked")
    dropped = {
        "catalog_missing_item_id": int(missing.sum()),
        "catalog_duplicate_item_id": int(repeated.sum()),
    }
    return catalog[list(c.ITEM_COLUMNS)], dropped


def _require(table: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [col for col in columns if col not in table.columns]
    if missing:
        raise InputError(
            f"{name}: missing required column(s) {', '.join(missing)}; the table has "
            f"{', '.join(map(str, table.columns))}. See rtrec/contract.py for the input contract."
        )
