"""Items added through ``POST /v1/items``: validated, embedded by the model, recommendable at once.

An item is checked by ingestion's item rules (``rtrec.validation.parse_item``: an id and a
title, text truncated at ``max_text_chars``), its text is built by the pipeline's own
``rtrec.contract.item_text`` (the model embeds it exactly as it embedded its catalog only if the
text is the same), and ``embed_items`` gives its vector under every version an arm serves. It is
written to the item log (so the next pipeline's catalog holds it), then to the store (so every
replica sees it); the in-process list is refreshed at once here and within ``REFRESH_S`` on
other replicas.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from rtrec import contract as c
from rtrec.validation import RawRow, Rejection, parse_item
from serving.gateway.event_log import EventLog
from serving.gateway.models import ModelAccess
from serving.gateway.schemas import ItemIn, RowRejection
from serving.gateway.store import OnlineStore, StoredItem

REFRESH_S = 1.0
"""How stale this replica's list of added items may be (its own additions show at once)."""
CATALOG_ITEM = "catalog_item"
"""Reason code: the id is already in the model's catalog (update the catalog files instead)."""


class AddedItems:
    """The store's added items, cached briefly, with their vectors per model version."""

    def __init__(self, store: OnlineStore, models: ModelAccess) -> None:
        self.store, self.models = store, models
        self._items: list[StoredItem] = []
        self._ids: frozenset[str] = frozenset()
        self._read_at = -np.inf
        self._lock = threading.Lock()

    def all(self) -> list[StoredItem]:
        if time.monotonic() - self._read_at > REFRESH_S:
            items = self.store.items()
            with self._lock:
                self._items, self._ids = items, frozenset(i.item_id for i in items)
                self._read_at = time.monotonic()
        return self._items

    def has(self, item_id: str) -> bool:
        """Whether the id was added (a miss asks the store: another replica may have it)."""
        self.all()
        return item_id in self._ids or self.store.item(item_id) is not None

    def vectors(self, version: int, items: Sequence[StoredItem]) -> np.ndarray:
        """[n, D] vectors of ``items`` under ``version`` (embedded once per version)."""
        if not items:
            return np.zeros((0, 0), np.float32)
        by_id = self.models.embed(
            version, [(i.item_id, i.text, i.category) for i in items]
        )  # fmt: skip
        return np.stack([by_id[i.item_id] for i in items])

    def add(
        self, batch: Sequence[ItemIn], versions: Sequence[int], log: EventLog, max_text: int
    ) -> tuple[int, list[RowRejection]]:
        """Validate, embed, log, store. Nothing is written if the model server fails."""
        rejected: list[RowRejection] = []
        parsed = []
        for index, item in enumerate(batch):
            fields = {
                c.ITEM_ID: item.item_id,
                c.TITLE: item.title,
                c.DESCRIPTION: item.description,
                c.CATEGORY: item.category,
            }
            raw = RawRow("api", 0, index, index + 1, fields, "")
            result, _ = parse_item(raw, max_text)
            if isinstance(result, Rejection):
                rejected.append(RowRejection(index=index, reason=result.reason,
                                             detail=result.detail))  # fmt: skip
                continue
            parsed.append((index, result))
        if parsed:  # an id the model's catalog holds already is the catalog's to change
            info = self.models.item_info(versions[0], [item.item_id for _, item in parsed])
            kept = []
            for index, item in parsed:
                if info[item.item_id].known:
                    detail = (
                        f"item_id {item.item_id!r} is in model version {versions[0]}'s catalog;"
                        " change it in the item files and retrain"
                    )
                    rejected.append(RowRejection(index=index, reason=CATALOG_ITEM, detail=detail))
                else:
                    kept.append((index, item))
            parsed = kept
        if not parsed:
            return 0, sorted(rejected, key=lambda r: r.index)
        now = time.time()
        cells = [c.CATEGORY_SEPARATOR.join(item.categories) for _, item in parsed]
        stored = [
            StoredItem(item.item_id, item.title, item.description, cell, item.text, [], now)
            for (_, item), cell in zip(parsed, cells)
        ]
        self.models.reembed([s.item_id for s in stored])
        vectors = {v: self.vectors(v, stored) for v in versions}  # may raise: nothing written
        first = vectors[versions[0]]
        stored = [
            StoredItem(s.item_id, s.title, s.description, s.category, s.text,
                       [float(x) for x in first[n]], s.added_at)
            for n, s in enumerate(stored)
        ]  # fmt: skip
        log.append_items(
            [
                {
                    c.ITEM_ID: s.item_id,
                    c.TITLE: s.title,
                    c.DESCRIPTION: s.description,
                    c.CATEGORY: s.category,
                    c.CREATED_AT: now,
                }
                for s in stored
            ]  # fmt: skip
        )
        self.store.put_items(stored)
        self._read_at = -np.inf
        return len(stored), sorted(rejected, key=lambda r: r.index)
