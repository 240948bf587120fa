"""The Beam graph of ingestion: read, validate, dead-letter, dedupe, drop bots, split, write.

Counts travel as ``(counter, n)`` pairs summed with ``CombinePerKey`` and written as one JSON
file, so they are exact on every runner (Beam metrics may be approximate or unavailable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import apache_beam as beam

from components.ingestion.encoding import catalog_example
from components.ingestion.sources import read_rows
from components.ingestion.steps import (
    HOUR_S,
    IngestionParams,
    ParseEvents,
    UserTimeline,
    cutoff_from_hours,
    examples_of,
    first_item,
    parse_items,
)
from rtrec import reasons as r


@dataclass(frozen=True)
class OutputPaths:
    """File prefixes the graph writes to (artifact URIs chosen by the TFX component)."""

    train_prefix: str
    eval_prefix: str
    catalog_prefix: str
    dead_letter_prefix: str
    counts_path: str
    cutoff_path: str


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
        parse_items, params.max_text_chars
    ).with_outputs("rejected", "counts", main="items")
    unique = (
        items.items
        | "GroupItemRows" >> beam.GroupByKey()
        | "FirstItemRow"
        >> beam.FlatMap(first_item).with_outputs("rejected", "counts", main="items")
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
        ParseEvents(params), known_items
    ).with_outputs("rejected", "counts", main="events")
    timelines = (
        events.events
        | "GroupByUser" >> beam.GroupByKey()
        | "UserTimelines" >> beam.ParDo(UserTimeline(params)).with_outputs("counts", main="users")
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
        cutoff_from_hours, params.eval_fraction, params.eval_cutoff
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
        examples_of, cutoff_side, counts_side, top_categories, params
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
