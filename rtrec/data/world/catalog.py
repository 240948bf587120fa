"""The sample world's item catalogue: typed, branded items with popularity and similarity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from rtrec import contract as c
from rtrec.data.world import text
from rtrec.data.world.products import DEPARTMENTS, ProductType
from rtrec.data.world.sizes import END_S, LATE_ITEM_WINDOW, START_S, WorldSize
from rtrec.data.world.taxonomy import COMPLEMENTS, department_of, select_types

LATE_ITEM_FRACTION = 0.12
ITEMS_PER_TYPE_MIN = 3
N_NEIGHBOURS = 8
ZIPF_EXPONENT = 1.1
_DAY = 86_400


@dataclass(frozen=True)
class Catalog:
    """Everything about the items, as arrays indexed by item number (0-based).

    ``neighbours[i]`` lists the most similar items of the same type (same brand, shared
    attributes) best first, padded with -1; ``fallback[i]`` is the most similar item that exists
    from the start, used while a late item does not exist yet.
    """

    types: tuple[ProductType, ...]
    brands: tuple[str, ...]
    type_department: np.ndarray
    type_weight: np.ndarray
    complements: np.ndarray
    n_complements: np.ndarray
    item_ids: np.ndarray
    item_type: np.ndarray
    item_brand: np.ndarray
    item_variant: np.ndarray
    item_spec: np.ndarray
    item_feature: np.ndarray
    item_code: tuple[str, ...]
    item_closing: np.ndarray
    created_s: np.ndarray
    late: np.ndarray
    popularity: np.ndarray
    neighbours: np.ndarray
    n_neighbours: np.ndarray
    fallback: np.ndarray

    @property
    def n_items(self) -> int:
        """Number of distinct catalogue items."""
        return len(self.item_ids)

    def type_key(self, item: int) -> str:
        """The product type key of an item, e.g. ``"smartphone"``."""
        return self.types[self.item_type[item]].key


def build_catalog(size: WorldSize, rng: np.random.Generator) -> Catalog:
    """Draw items, attributes, creation dates and popularity for a world of ``size``."""
    types = select_types(size.types_per_department)
    keys = [t.key for t in types]
    type_dept = np.array([department_of(k) for k in keys])
    brands = tuple(b for d in DEPARTMENTS for b in d.brands)
    brand_start = np.cumsum([0] + [len(d.brands) for d in DEPARTMENTS])

    comp_lists = [[keys.index(k) for k in COMPLEMENTS.get(key, ()) if k in keys] for key in keys]
    width = max(1, max(len(x) for x in comp_lists))
    complements = np.full((len(types), width), -1, dtype=np.int64)
    for i, comps in enumerate(comp_lists):
        complements[i, : len(comps)] = comps
    n_complements = np.array([len(x) for x in comp_lists])

    n_types, n = len(types), size.n_items
    type_weight = rng.lognormal(0.0, 0.5, n_types)
    type_weight /= type_weight.sum()
    anchored = min(n, n_types * ITEMS_PER_TYPE_MIN)
    item_type = np.concatenate(
        [np.arange(anchored) % n_types, rng.choice(n_types, n - anchored, p=type_weight)]
    )
    dept = type_dept[item_type]
    n_brands = np.diff(brand_start)[dept]
    item_brand = brand_start[dept] + (rng.random(n) * n_brands).astype(np.int64)
    variant = _pick(rng, item_type, [len(t.variants) for t in types])
    spec = _pick(rng, item_type, [len(t.specs) for t in types])
    feature = _pick(rng, item_type, [len(t.features) for t in types])
    codes = tuple(text.model_code(DEPARTMENTS[d].name, rng) for d in dept)
    closing = rng.integers(0, 1000, n)

    late = np.zeros(n, dtype=bool)
    n_late = min(round(LATE_ITEM_FRACTION * n), n - anchored)
    late[anchored + rng.choice(n - anchored, n_late, replace=False)] = True
    late_from = END_S - int(LATE_ITEM_WINDOW * (END_S - START_S))
    created = START_S - rng.integers(1, 730, n) * _DAY
    created[late] = late_from + rng.integers(0, (END_S - late_from) // _DAY - 7, n_late) * _DAY
    created = created - (created - START_S) % _DAY  # midnight, so the ISO date is exact

    popularity = _popularity(rng, item_type, type_weight, late)
    neighbours, n_neighbours, fallback = _similarity(
        rng, item_type, item_brand, variant, spec, feature, late
    )
    return Catalog(
        types=types,
        brands=brands,
        type_department=type_dept,
        type_weight=type_weight,
        complements=complements,
        n_complements=n_complements,
        item_ids=np.array([f"i{k:06d}" for k in range(1, n + 1)], dtype=object),
        item_type=item_type,
        item_brand=item_brand,
        item_variant=variant,
        item_spec=spec,
        item_feature=feature,
        item_code=codes,
        item_closing=closing,
        created_s=created.astype(np.int64),
        late=late,
        popularity=popularity,
        neighbours=neighbours,
        n_neighbours=n_neighbours,
        fallback=fallback,
    )


def items_frame(catalog: Catalog) -> pd.DataFrame:
    """The clean item table with the contract's columns, every cell a string."""
    titles, descriptions, categories = [], [], []
    for i in range(catalog.n_items):
        ptype = catalog.types[catalog.item_type[i]]
        brand = catalog.brands[catalog.item_brand[i]]
        v, s, f = catalog.item_variant[i], catalog.item_spec[i], catalog.item_feature[i]
        titles.append(text.title(ptype, brand, v, f, catalog.item_code[i]))
        descriptions.append(text.description(ptype, brand, v, s, f, catalog.item_closing[i]))
        categories.append(ptype.category)
    created = [
        datetime.fromtimestamp(int(s), tz=timezone.utc).date().isoformat()
        for s in catalog.created_s
    ]
    return pd.DataFrame(
        {
            c.ITEM_ID: catalog.item_ids,
            c.TITLE: titles,
            c.DESCRIPTION: descriptions,
            c.CATEGORY: categories,
            c.CREATED_AT: created,
        },
        columns=list(c.ITEM_COLUMNS),
    )


def _pick(rng: np.random.Generator, item_type: np.ndarray, counts: list[int]) -> np.ndarray:
    """A uniform index into each item's type-specific attribute list."""
    return (rng.random(len(item_type)) * np.asarray(counts)[item_type]).astype(np.int64)


def _popularity(
    rng: np.random.Generator, item_type: np.ndarray, type_weight: np.ndarray, late: np.ndarray
) -> np.ndarray:
    """Zipf-like weights within each type (random ranks), scaled by the type's weight."""
    n = len(item_type)
    rank = np.empty(n, dtype=np.float64)
    order = np.lexsort((rng.random(n), item_type))
    starts = np.searchsorted(item_type[order], np.arange(len(type_weight)))
    rank[order] = np.arange(n) - starts[item_type[order]]
    weight = 1.0 / (rank + 1.0) ** ZIPF_EXPONENT
    weight[late] *= 2.0  # new items get a novelty boost once they exist
    per_type = np.bincount(item_type, weights=weight, minlength=len(type_weight))
    weight = weight / per_type[item_type] * type_weight[item_type]
    return weight / weight.sum()


def _similarity(
    rng: np.random.Generator,
    item_type: np.ndarray,
    brand: np.ndarray,
    variant: np.ndarray,
    spec: np.ndarray,
    feature: np.ndarray,
    late: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank same-type items by brand and shared attributes: what 'similar' means here."""
    n = len(item_type)
    neighbours = np.full((n, N_NEIGHBOURS), -1, dtype=np.int64)
    n_neighbours = np.zeros(n, dtype=np.int64)
    fallback = np.arange(n, dtype=np.int64)
    for t in np.unique(item_type):
        members = np.flatnonzero(item_type == t)
        score = (
            2.0 * (brand[members, None] == brand[None, members])
            + 1.0 * (variant[members, None] == variant[None, members])
            + 1.0 * (feature[members, None] == feature[None, members])
            + 0.5 * (spec[members, None] == spec[None, members])
            + 0.4 * rng.random((len(members), len(members)))
        )
        np.fill_diagonal(score, -np.inf)
        k = min(N_NEIGHBOURS, len(members) - 1)
        best = np.argsort(-score, axis=1, kind="stable")[:, :k]
        neighbours[members, :k] = members[best]
        n_neighbours[members] = k
        early = ~late[members]
        late_rows = np.flatnonzero(~early)
        if len(late_rows):
            masked = np.where(early[None, :], score[late_rows], -np.inf)
            fallback[members[late_rows]] = members[np.argmax(masked, axis=1)]
    return neighbours, n_neighbours, fallback
