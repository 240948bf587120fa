"""The ingestion report: counters grouped for people, and the reconciliation equations."""

from __future__ import annotations

from components.ingestion import reasons as r

REPORT_FILE = "report.json"


class ReconciliationError(RuntimeError):
    """Counts do not add up: some rows were lost, which is a bug, never a data problem."""


def _with_prefix(counts: dict[str, int], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}


def build_report(counts: dict[str, int], cutoff: float) -> dict:
    """Group raw counters and check that every event and item row is accounted for."""
    get = counts.get
    rejected = _with_prefix(counts, r.REJECTED_PREFIX)
    item_rejected = _with_prefix(counts, r.ITEMS_REJECTED_PREFIX)
    events = {
        "rows_in": get(r.EVENTS_IN, 0),
        "accepted": get(r.EVENTS_ACCEPTED, 0),
        "rejected": rejected,
        "rejected_total": sum(rejected.values()),
        "duplicates_removed": get(r.DUPLICATES_REMOVED, 0),
        "bot_filtered": get(r.BOT_FILTERED, 0),
        "bot_users": get(r.BOT_USERS, 0),
        "clamped_timestamps": get(r.CLAMPED_TIMESTAMPS, 0),
        "truncated_queries": get(r.TRUNCATED_QUERIES, 0),
    }
    items = {
        "rows_in": get(r.ITEMS_IN, 0),
        "accepted": get(r.ITEMS_ACCEPTED, 0),
        "rejected": item_rejected,
        "rejected_total": sum(item_rejected.values()),
        "duplicates_removed": get(r.ITEM_DUPLICATES, 0),
        "truncated_text": get(r.TRUNCATED_ITEM_TEXT, 0),
    }
    event_sum = (
        events["accepted"]
        + events["rejected_total"]
        + events["duplicates_removed"]
        + events["bot_filtered"]
    )
    item_sum = items["accepted"] + items["rejected_total"] + items["duplicates_removed"]
    return {
        "events": events,
        "items": items,
        "output": {
            "users": get(r.USERS, 0),
            "sessions": get(r.SESSIONS, 0),
            "interactions": get(r.INTERACTIONS, 0),
            "train_examples": get(r.TRAIN_EXAMPLES, 0),
            "eval_examples": get(r.EVAL_EXAMPLES, 0),
            "eval_cold_targets": get(r.EVAL_COLD_TARGETS, 0),
            "eval_cutoff": cutoff,
        },
        "reconciled": {
            "events": event_sum == events["rows_in"],
            "items": item_sum == items["rows_in"],
        },
    }


def check_reconciled(report: dict) -> None:
    """Raise :class:`ReconciliationError` naming the side whose counts do not add up."""
    for side, ok in report["reconciled"].items():
        if not ok:
            part = report[side]
            raise ReconciliationError(
                f"{side}: {part['rows_in']} rows in, but accepted + rejected + duplicates"
                f"{' + bots' if side == 'events' else ''} does not match: {part}"
            )
