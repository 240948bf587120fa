"""The Beam graph of ingestion: read, validate, dead-letter, dedupe, drop bots, split, write.

Counts travel as ``(counter, n)`` pairs summed with ``CombinePerKey`` and written as one JSON
file, so they are exact on every runner (Beam metrics may be approximate or unavailable).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from components.ingestion.encoding import catalog_example, training_example
from components.ingestion.sources import read_rows
from rtrec import features as fk
from rtrec import reasons as r
from rtrec import timeline as history
from rtrec.validation import (
    EventParser,
    Item,
    Rejection,
    conflicting_duplicate,
    parse_item,
)

HOUR_S = 3600.0


@dataclass(frozen=True)
class IngestionParams:
    """Everything the Beam graph needs, resolved (files expanded, key and times known)."""

    event_files: tuple[str, ...]
    item_files: tuple[str, ...]
    key: bytes
    now: float
    max_clock_skew_s: float
    max_text_chars: int
    bot_max_events_per_minute: int
    session_gap_s: float
    history_length: int
    event_weights: tuple[tuple[str, float], ...]
    eval_fraction: float
    eval_cutoff: float | None
    forgotten: frozenset[str] = frozenset()
    """Pseudonyms with a tombstone (``ingestion.tombstones``): all their events are dropped."""


@dataclass(frozen=True)
class OutputPaths:
    """File prefixes the graph writes to (artifact URIs chosen by the TFX component)."""

    train_prefix: str
    eval_prefix: str
    catalog_prefix: str
    dead_letter_prefix: str
    counts_path: str
    cutoff_path: str


# Multi-output DoFns: Beam would infer TaggedOutput into the main type; declare it open.
@beam.typehints.with_output_types(Any)
class _ParseEvents(beam.DoFn):
    def __init__(self, params: IngestionParams):
        self.params = params

    def setup(self):
        p = self.params
        self.parser = EventParser(p.key, p.now, p.max_clock_skew_s, p.max_text_chars)

    def process(self, raw, known_items):
        parsed, notes = self.parser.parse(raw)
        for name, n in notes.items():
            yield beam.pvalue.TaggedOutput("counts", (name, n))
        if isinstance(parsed, Rejection):
            yield beam.pvalue.TaggedOutput("rejected", parsed)
        elif parsed.item and parsed.item not in known_items:
            row = dict(raw.fields)
            row["user_id"] = parsed.user
            detail = f"item_id {parsed.item!r} is not in the item catalog"
            rejection = Rejection(r.UNKNOWN_ITEM, raw.source, raw.line, row, "", detail)
            yield beam.pvalue.TaggedOutput("rejected", rejection)
        else:
            yield (parsed.user, parsed)


@beam.typehints.with_output_types(Any)
def _parse_items(raw, max_text_chars: int):
    parsed, truncated = parse_item(raw, max_text_chars)
    if truncated:
        yield beam.pvalue.TaggedOutput("counts", (r.TRUNCATED_ITEM_TEXT, 1))
    if isinstance(parsed, Rejection):
        yield beam.pvalue.TaggedOutput("rejected", parsed)
    else:
        yield (parsed.item_id, parsed)


@beam.typehints.with_output_types(Any)
def _first_item(keyed: tuple[str, Iterable[Item]]):
    """Keep the first row of each item id (by input order).

    Later rows that repeat it count as duplicates; later rows that disagree with it (another
    title, say) are dead-lettered, so a conflict in the catalog is never dropped unseen.
    """
    _, rows = keyed
    first, *later = sorted(rows, key=lambda item: item.order)
    repeats = 0
    for item in later:
        if item.content() == first.content():
            repeats += 1
        else:
            yield beam.pvalue.TaggedOutput("rejected", conflicting_duplicate(first, item))
    if repeats:
        yield beam.pvalue.TaggedOutput("counts", (r.ITEM_DUPLICATES, repeats))
    yield first


@beam.typehints.with_output_types(Any)
class _UserTimeline(beam.DoFn):
    """Drop forgotten users; dedupe, drop bots, sort, sessionize and collapse one user's events
    into interactions."""

    def __init__(self, params: IngestionParams):
        self.params = params
        self.weights = dict(params.event_weights)

    def process(self, keyed):
        user, events = keyed
        if user in self.params.forgotten:
            yield beam.pvalue.TaggedOutput("counts", (r.FORGOTTEN_EVENTS, len(list(events))))
            yield beam.pvalue.TaggedOutput("counts", (r.FORGOTTEN_USERS, 1))
            return
        events, duplicates = history.dedupe(events)
        if duplicates:
            yield beam.pvalue.TaggedOutput("counts", (r.DUPLICATES_REMOVED, duplicates))
        events.sort(key=lambda e: e.sort_key())
        if history.is_bot(events, self.params.bot_max_events_per_minute):
            yield beam.pvalue.TaggedOutput("counts", (r.BOT_FILTERED, len(events)))
            yield beam.pvalue.TaggedOutput("counts", (r.BOT_USERS, 1))
            return
        sessions = history.sessionize(events, self.params.session_gap_s)
        steps = history.interactions(events, sessions, self.weights)
        yield beam.pvalue.TaggedOutput("counts", (r.EVENTS_ACCEPTED, len(events)))
        yield beam.pvalue.TaggedOutput("counts", (r.USERS, 1))
        yield beam.pvalue.TaggedOutput("counts", (r.SESSIONS, sessions[-1] + 1))
        yield beam.pvalue.TaggedOutput("counts", (r.INTERACTIONS, len(steps)))
        if steps:
            yield (user, steps)


def _cutoff_from_hours(hour_counts: dict[int, int], fraction: float, fixed: float | None):
    """The hour boundary after which about ``fraction`` of interactions start.

    Counting per hour makes the cutoff exact and independent of input order (an approximate
    quantile could differ between file formats and so change the split).
    """
    if fixed is not None:
        return fixed
    if not hour_counts:
        return math.inf
    total = sum(hour_counts.values())
    budget = total * fraction
    tail = 0
    for hour in sorted(hour_counts, reverse=True):
        if tail + hour_counts[hour] > budget and tail > 0:
            return (hour + 1) * HOUR_S
        tail += hour_counts[hour]
    return (min(hour_counts) + 1) * HOUR_S


@beam.typehints.with_output_types(Any)
def _examples(keyed, cutoff: float, counts: dict, categories: dict, params: IngestionParams):
    user, steps = keyed
    seen = counts.keys()
    for split, features in history.build_examples(user, steps, params.history_length, cutoff, seen):
        target = features[fk.TARGET_ITEM_ID]
        features[fk.TARGET_CATEGORY] = categories.get(target, "")
        features[fk.TARGET_POPULARITY] = fk.popularity_bucket(counts.get(target, 0))
        yield beam.pvalue.TaggedOutput(split, training_example(features))
        yield beam.pvalue.TaggedOutput("counts", (f"{split}_examples", 1))
        if split == "eval" and features[fk.TARGET_UNSEEN_IN_TRAIN]:
            yield beam.pvalue.TaggedOutput("counts", (r.EVAL_COLD_TARGETS, 1))


def _counted(pcoll, name: str, label: str):
    return pcoll | label >> beam.Map(lambda _: (name, 1))


def build(p: beam.Pipeline, params: IngestionParams, out: OutputPaths) -> None:
    """Add the whole ingestion graph to ``p``."""
    raw_items = (
        p
        | "ItemFiles" >> beam.Create(list(enumerate(params.item_files)))
        | "ReadItems" >> beam.FlatMap(lambda f: read_rows(f[1], f[0]))
    )
    items = raw_items | "ParseItems" >> beam.FlatMap(
        _parse_items, params.max_text_chars
    ).with_outputs("rejected", "counts", main="items")
    unique = (
        items.items
        | "GroupItemRows" >> beam.GroupByKey()
        | "FirstItemRow"
        >> beam.FlatMap(_first_item).with_outputs("rejected", "counts", main="items")
    )
    known_items = beam.pvalue.AsSingleton(
        unique.items
        | "ItemIds" >> beam.Map(lambda item: item.item_id)
        | "ItemIdSet" >> beam.combiners.ToSet()
    )

    raw_events = (
        p
        | "EventFiles" >> beam.Create(list(enumerate(params.event_files)))
        | "ReadEvents" >> beam.FlatMap(lambda f: read_rows(f[1], f[0]))
    )
    events = raw_events | "ParseEvents" >> beam.ParDo(
        _ParseEvents(params), known_items
    ).with_outputs("rejected", "counts", main="events")
    timelines = (
        events.events
        | "GroupByUser" >> beam.GroupByKey()
        | "UserTimelines" >> beam.ParDo(_UserTimeline(params)).with_outputs("counts", main="users")
    )
    starts = timelines.users | "InteractionStarts" >> beam.FlatMap(
        lambda kv: [(step.item, step.start) for step in kv[1]]
    )
    hour_counts = (
        starts
        | "Hours" >> beam.Map(lambda kv: (int(kv[1] // HOUR_S), 1))
        | "CountPerHour" >> beam.CombinePerKey(sum)
        | "HourHistogram" >> beam.combiners.ToDict()
    )
    cutoff = hour_counts | "Cutoff" >> beam.Map(
        _cutoff_from_hours, params.eval_fraction, params.eval_cutoff
    )
    cutoff_side = beam.pvalue.AsSingleton(cutoff)
    first_start = starts | "FirstStart" >> beam.CombinePerKey(min)
    train_counts = (
        starts
        | "TrainStarts" >> beam.Filter(lambda kv, cut: kv[1] < cut, cutoff_side)
        | "ItemKeys" >> beam.Map(lambda kv: kv[0])
        | "TrainCountPerItem" >> beam.combiners.Count.PerElement()
    )
    counts_side = beam.pvalue.AsDict(train_counts)
    top_categories = beam.pvalue.AsDict(
        unique.items
        | "TopCategory" >> beam.Map(lambda i: (i.item_id, i.categories[0] if i.categories else ""))
    )
    examples = timelines.users | "Examples" >> beam.FlatMap(
        _examples, cutoff_side, counts_side, top_categories, params
    ).with_outputs("train", "eval", "counts")
    _ = examples.train | "WriteTrain" >> beam.io.WriteToTFRecord(
        out.train_prefix, file_name_suffix=".gz"
    )
    _ = examples.eval | "WriteEval" >> beam.io.WriteToTFRecord(
        out.eval_prefix, file_name_suffix=".gz"
    )

    catalog = (
        {
            "item": unique.items | "KeyItems" >> beam.Map(lambda i: (i.item_id, i)),
            "count": train_counts,
            "first": first_start,
        }
        | "JoinItemStats" >> beam.CoGroupByKey()
        | "CatalogItems"
        >> beam.FlatMap(
            lambda kv: [
                catalog_example(item, sum(kv[1]["count"]), min(kv[1]["first"], default=None))
                for item in kv[1]["item"]
            ]
        )
    )
    _ = catalog | "WriteCatalog" >> beam.io.WriteToTFRecord(
        out.catalog_prefix, file_name_suffix=".gz"
    )

    item_rejected = (items.rejected, unique.rejected) | "ItemRejects" >> beam.Flatten()
    rejected = (
        events.rejected,
        item_rejected
        | "TagItemRejects" >> beam.Map(lambda rej: rej._replace(reason="item:" + rej.reason)),
    ) | "AllRejected" >> beam.Flatten()
    _ = (
        rejected
        | "DeadLetterJson" >> beam.Map(lambda rej: json.dumps(rej.to_record(), sort_keys=True))
        | "WriteDeadLetter"
        >> beam.io.WriteToText(out.dead_letter_prefix, file_name_suffix=".jsonl")
    )

    counts = (
        _counted(raw_events, r.EVENTS_IN, "CountEventsIn"),
        _counted(raw_items, r.ITEMS_IN, "CountItemsIn"),
        _counted(unique.items, r.ITEMS_ACCEPTED, "CountItemsAccepted"),
        events.rejected
        | "EventRejectReasons" >> beam.Map(lambda x: (r.REJECTED_PREFIX + x.reason, 1)),
        item_rejected
        | "ItemRejectReasons" >> beam.Map(lambda x: (r.ITEMS_REJECTED_PREFIX + x.reason, 1)),
        events.counts,
        items.counts,
        unique.counts,
        timelines.counts,
        examples.counts,
    ) | "AllCounts" >> beam.Flatten()
    _ = (
        counts
        | "SumCounts" >> beam.CombinePerKey(sum)
        | "CountsDict" >> beam.combiners.ToDict()
        | "CountsJson" >> beam.Map(lambda d: json.dumps(d, sort_keys=True))
        | "WriteCounts" >> beam.io.WriteToText(out.counts_path, shard_name_template="")
    )
    _ = (
        cutoff
        | "CutoffJson" >> beam.Map(lambda cut: json.dumps({"cutoff": cut}))
        | "WriteCutoff" >> beam.io.WriteToText(out.cutoff_path, shard_name_template="")
    )
