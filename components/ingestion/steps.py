"""The per-element steps of the ingestion graph: parse, keep one row per item, build each
user's timeline, cut the time split, and turn interactions into examples.

Each step yields its main output plus ``TaggedOutput("rejected", ...)`` dead letters and
``TaggedOutput("counts", (counter, n))`` pairs; ``beam_pipeline`` wires them together. The
rules themselves (validation, dedupe, bots, sessions, examples) live in the ground package.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from components.ingestion.encoding import training_example
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


# Multi-output DoFns: Beam would infer TaggedOutput into the main type; declare it open.
@beam.typehints.with_output_types(Any)
class ParseEvents(beam.DoFn):
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
def parse_items(raw, max_text_chars: int):
    parsed, truncated = parse_item(raw, max_text_chars)
    if truncated:
        yield beam.pvalue.TaggedOutput("counts", (r.TRUNCATED_ITEM_TEXT, 1))
    if isinstance(parsed, Rejection):
        yield beam.pvalue.TaggedOutput("rejected", parsed)
    else:
        yield (parsed.item_id, parsed)


@beam.typehints.with_output_types(Any)
def first_item(keyed: tuple[str, Iterable[Item]]):
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
class UserTimeline(beam.DoFn):
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


def cutoff_from_hours(hour_counts: dict[int, int], fraction: float, fixed: float | None):
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
def examples_of(keyed, cutoff: float, counts: dict, categories: dict, params: IngestionParams):
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
