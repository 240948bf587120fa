"""The ingestion graph's per-element steps, outside Beam."""

from __future__ import annotations

import math

import apache_beam as beam

from components.ingestion.steps import HOUR_S, cutoff_from_hours, first_item
from rtrec import reasons as r
from rtrec.validation import Item


def test_the_cutoff_is_the_hour_boundary_before_the_last_fraction():
    hours = {0: 50, 1: 30, 2: 20}  # 100 interactions; the last 20% start in hour 2
    assert cutoff_from_hours(hours, 0.2, None) == 2 * HOUR_S
    assert cutoff_from_hours(hours, 0.5, None) == HOUR_S  # hours 1 and 2: exactly half
    assert cutoff_from_hours(hours, 0.2, 123.0) == 123.0  # a fixed cutoff wins
    assert cutoff_from_hours({}, 0.2, None) == math.inf  # nothing to split: all train
    assert cutoff_from_hours({5: 10}, 0.2, None) == 6 * HOUR_S  # one hour: all train


def _item(title: str, order: int) -> Item:
    return Item("i1", title, "", ("Home",), None, (0, order), "items.csv", order + 2)


def test_an_item_keeps_its_first_row_counts_repeats_and_dead_letters_conflicts():
    out = list(first_item(("i1", [_item("Lamp", 2), _item("Lamp", 0), _item("Desk", 1)])))
    kept = [o for o in out if isinstance(o, Item)]
    tagged = [o for o in out if isinstance(o, beam.pvalue.TaggedOutput)]
    assert kept == [_item("Lamp", 0)]
    assert [t.value for t in tagged if t.tag == "counts"] == [(r.ITEM_DUPLICATES, 1)]
    rejected = [t.value for t in tagged if t.tag == "rejected"]
    assert len(rejected) == 1 and rejected[0].line == 3
