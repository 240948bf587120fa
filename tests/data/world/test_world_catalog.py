"""The catalogue: meaningful text, a connected complement graph, long-tailed popularity."""

from __future__ import annotations

import numpy as np
import pytest

from rtrec import contract
from rtrec.data.world import SIZES, World
from rtrec.data.world.products import DEPARTMENTS
from rtrec.data.world.taxonomy import COMPLEMENTS, select_types


def test_complement_graph_names_real_types() -> None:
    keys = {t.key for d in DEPARTMENTS for t in d.types}
    assert set(COMPLEMENTS) == keys
    for source, targets in COMPLEMENTS.items():
        assert targets and set(targets) <= keys and source not in targets


@pytest.mark.parametrize("size", list(SIZES))
def test_every_type_keeps_a_complement_in_every_size(size: str) -> None:
    chosen = {t.key for t in select_types(SIZES[size].types_per_department)}
    for key in chosen:
        assert set(COMPLEMENTS[key]) & chosen, f"{key} has no complement in {size}"


def test_departments_and_categories(tiny: World) -> None:
    assert len(DEPARTMENTS) >= 8
    categories = tiny.items[contract.CATEGORY]
    assert categories.str.count(r"\|").ge(2).all()
    assert categories.str.split("|").str[0].nunique() == len(DEPARTMENTS)


def test_titles_carry_brand_and_product_noun(tiny: World) -> None:
    cat = tiny.truth.catalog
    titles = tiny.items.drop_duplicates(contract.ITEM_ID).set_index(contract.ITEM_ID)[
        contract.TITLE
    ]
    for i in range(cat.n_items):
        title = titles[cat.item_ids[i]]
        if title:
            assert cat.brands[cat.item_brand[i]] in title
            assert cat.types[cat.item_type[i]].noun in title
    assert titles.nunique() > 0.9 * len(titles)
    described = tiny.items[contract.DESCRIPTION].str.len()
    assert (described > 60).all()


def test_popularity_is_long_tailed(tiny: World) -> None:
    counts = tiny.clean_events()[contract.ITEM_ID].replace("", np.nan).value_counts()
    top = counts.iloc[: len(counts) // 10].sum()
    assert top / counts.sum() > 0.2


def test_late_items_are_a_minority_created_late(tiny: World) -> None:
    cat = tiny.truth.catalog
    assert 0.08 < cat.late.mean() < 0.16
    created = tiny.items.drop_duplicates(contract.ITEM_ID)[contract.CREATED_AT]
    assert created.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    late_dates = created[
        np.isin(
            tiny.items.drop_duplicates(contract.ITEM_ID)[contract.ITEM_ID],
            list(tiny.truth.late_items()),
        )
    ]
    assert (late_dates >= "2025-06-01").all()
