"""Build a whole sample world from a size and a seed, and write it to disk."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rtrec import contract as c
from rtrec.data.tables import write_table
from rtrec.data.world import assemble, behaviour, dirt
from rtrec.data.world.catalog import Catalog, build_catalog, items_frame
from rtrec.data.world.products import DEPARTMENTS
from rtrec.data.world.sampling import ItemSampler
from rtrec.data.world.sizes import END_S, LATE_ITEM_WINDOW, START_S, get_size
from rtrec.data.world.users import Users, draw_sessions, draw_users

FORMATS = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Truth:
    """What the generator planted, for tests and benchmarks; never written to disk."""

    catalog: Catalog
    users: Users
    event_defects: np.ndarray
    item_defects: np.ndarray
    bot_user_ids: frozenset[str]

    def item_type(self) -> dict[str, str]:
        """Item id -> product type key, the label behind the planted next-item structure."""
        cat = self.catalog
        return {i: cat.types[t].key for i, t in zip(cat.item_ids, cat.item_type)}

    def complements(self) -> dict[str, tuple[str, ...]]:
        """Product type key -> complement type keys, restricted to the types in this world."""
        cat = self.catalog
        return {
            t.key: tuple(cat.types[j].key for j in cat.complements[k, : cat.n_complements[k]])
            for k, t in enumerate(cat.types)
        }

    def late_items(self) -> dict[str, int]:
        """Cold-start item id -> creation time (Unix seconds); they have no earlier events."""
        cat = self.catalog
        return {i: int(s) for i, s, late in zip(cat.item_ids, cat.created_s, cat.late) if late}


@dataclass(frozen=True)
class World:
    """A generated world: the two tables as written (all strings), a manifest and the truth."""

    items: pd.DataFrame
    events: pd.DataFrame
    manifest: dict[str, Any]
    truth: Truth

    def clean_events(self) -> pd.DataFrame:
        """The events rows that carry no planted defect, in written order."""
        return self.events[self.truth.event_defects == ""]


def generate_world(size: str = "tiny", seed: int = 0) -> World:
    """Generate a world deterministically: the same size and seed give byte-identical files."""
    spec = get_size(size)
    rng = np.random.default_rng(seed)
    catalog = build_catalog(spec, rng)
    sampler = ItemSampler(catalog)
    users = draw_users(spec.n_users, catalog, rng)

    n_bots = max(1, round(dirt.BOT_USER_RATE * spec.n_users))
    clean_target = (spec.target_events - n_bots * np.mean(dirt.BOT_EVENTS)) / (
        1.0 + dirt.DUPLICATE_RATE
    )
    mean_steps = 1.0 / behaviour.P_SESSION_END
    per_user = clean_target / (spec.n_users * mean_steps * behaviour.EVENTS_PER_STEP)
    sessions = draw_sessions(users, per_user, sampler, rng)
    log = behaviour.simulate(users, sessions, sampler, rng)
    bots = dirt.draw_bots(spec.n_users, log.n_sessions, catalog, rng)
    table = assemble.event_table(log, bots, catalog, rng)
    used = set(table.frame[c.ITEM_ID])
    items, item_defects, item_counts = dirt.corrupt_items(items_frame(catalog), rng, used)

    bot_ids = frozenset(table.frame[c.USER_ID][table.defect == "bot_events"])
    truth = Truth(catalog, users, table.defect, item_defects, bot_ids)
    clean = table.frame[table.defect == ""]
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "size": spec.name,
        "seed": int(seed),
        "start": _iso(START_S),
        "end": _iso(END_S),
        "late_items_from": _iso(END_S - int(LATE_ITEM_WINDOW * (END_S - START_S))),
        "n_departments": len(DEPARTMENTS),
        "n_product_types": len(catalog.types),
        "n_items": catalog.n_items,
        "n_item_rows": len(items),
        "late_item_ids_count": int(catalog.late.sum()),
        "n_users": users.n,
        "late_users_count": int(users.late.sum()),
        "n_event_rows": len(table.frame),
        "n_clean_events": len(clean),
        "n_sessions": int(clean[c.SESSION_ID].nunique()),
        "clean_event_type_counts": dict(sorted(Counter(clean[c.EVENT_TYPE]).items())),
        "iso_timestamp_rows": table.iso_rows,
        "out_of_order_rows": table.out_of_order_rows,
        "dirt": {**table.counts, **item_counts},
    }
    return World(items=items, events=table.frame, manifest=manifest, truth=truth)


def write_world(world: World, out_dir: str, fmt: str = "csv") -> dict[str, str]:
    """Write ``items``, ``events`` and ``manifest.json`` under ``out_dir``; return their paths."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} for the sample world; use {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "items": write_table(world.items, str(out / f"items{FORMATS[fmt]}")),
        "events": write_table(world.events, str(out / f"events{FORMATS[fmt]}")),
        "manifest": str(out / "manifest.json"),
    }
    text = json.dumps(world.manifest, indent=2, sort_keys=True)
    Path(paths["manifest"]).write_text(text + "\n", encoding="utf-8")
    return paths


def _iso(ts: int) -> str:
    """Unix seconds as an ISO-8601 UTC string."""
    return pd.Timestamp(ts, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
