"""Vectorised draws of items from a catalogue: by type, by type and brand, similar, popular.

Every method draws for a whole batch of sessions at once, so a 3-million-event world costs a
few dozen numpy calls per session step instead of a Python loop per event.
"""

from __future__ import annotations

import numpy as np

from rtrec.data.world.catalog import Catalog

# Probability of picking the k-th most similar neighbour decays like this ratio ** k.
NEIGHBOUR_DECAY = 0.7


class ItemSampler:
    """Draws item numbers from a :class:`Catalog` with popularity inside each segment."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        n_types, n_brands = len(catalog.types), len(catalog.brands)
        self._n_brands = n_brands
        self._type_keys, self._type_items = _segments(
            catalog.item_type, catalog.popularity, n_types
        )
        segment = catalog.item_type * n_brands + catalog.item_brand
        self._tb_keys, self._tb_items = _segments(segment, catalog.popularity, n_types * n_brands)
        self._tb_count = np.bincount(segment, minlength=n_types * n_brands)
        self._global_cdf = np.cumsum(catalog.popularity)
        self._global_cdf /= self._global_cdf[-1]

    def in_type(self, types: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A popularity-weighted item of each given product type."""
        u = 1.0 - rng.random(len(types))  # in (0, 1], so a draw never lands in segment t-1
        pos = np.searchsorted(self._type_keys, types + u, side="left")
        return self._type_items[np.minimum(pos, len(self._type_items) - 1)]

    def in_type_brand(
        self, types: np.ndarray, brands: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """An item of each type from the given brand, or of any brand when the type has none."""
        segment = types * self._n_brands + brands
        has = self._tb_count[segment] > 0
        u = 1.0 - rng.random(len(types))
        pos = np.searchsorted(self._tb_keys, segment + u, side="left")
        branded = self._tb_items[np.minimum(pos, len(self._tb_items) - 1)]
        return np.where(has, branded, self.in_type(types, rng))

    def similar(self, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A near neighbour of each item (same type, shared brand or attributes), best likelier."""
        count = self.catalog.n_neighbours[items]
        u = rng.random(len(items))
        tail = NEIGHBOUR_DECAY ** np.maximum(count, 1)
        rank = np.floor(np.log1p(-u * (1.0 - tail)) / np.log(NEIGHBOUR_DECAY)).astype(np.int64)
        rank = np.clip(rank, 0, np.maximum(count - 1, 0))
        chosen = self.catalog.neighbours[items, rank]
        return np.where(count > 0, chosen, items)

    def complement_type(self, types: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A complement of each product type in the planted graph (the type itself if none)."""
        count = self.catalog.n_complements[types]
        col = (rng.random(len(types)) * np.maximum(count, 1)).astype(np.int64)
        return np.where(count > 0, self.catalog.complements[types, col], types)

    def popular(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Items drawn from global popularity: the 'anything trending' noise in behaviour."""
        pos = np.searchsorted(self._global_cdf, rng.random(n), side="right")
        return np.minimum(pos, self.catalog.n_items - 1)

    def available(self, items: np.ndarray, when_s: np.ndarray) -> np.ndarray:
        """Replace items not yet created at ``when_s`` by their closest always-present twin."""
        return np.where(self.catalog.created_s[items] > when_s, self.catalog.fallback[items], items)


def _segments(
    segment: np.ndarray, weight: np.ndarray, n_segments: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``segment + cumulative share`` so one searchsorted samples any segment."""
    order = np.lexsort((np.arange(len(segment)), segment))
    seg_sorted = segment[order]
    w = weight[order]
    totals = np.bincount(seg_sorted, weights=w, minlength=n_segments)
    cum = np.cumsum(w)
    before = np.concatenate([[0.0], np.cumsum(totals)])[seg_sorted]
    share = (cum - before) / totals[seg_sorted]
    share[np.r_[seg_sorted[1:] != seg_sorted[:-1], True]] = 1.0  # last of each segment exactly 1
    return seg_sorted + share, order
