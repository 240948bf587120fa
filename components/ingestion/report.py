"""The ingestion report: counters grouped for people, and the reconciliation equations."""

from __future__ import annotations

from rtrec import reasons as r

REPORT_FILE = "report.json"


class ReconciliationError(RuntimeError):
    """Counts do not add up: some rows were lost, which is a bug, never a data problem."""


class NothingToTrainError(ValueError):
    """Ingestion ran but produced no training example, so no later component could run."""


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
        "forgotten_events": get(r.FORGOTTEN_EVENTS, 0),
        "forgotten_users": get(r.FORGOTTEN_USERS, 0),
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
        + events["forgotten_events"]
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
                f"{' + bots + forgotten' if side == 'events' else ''} does not match: {part}"
            )


def _top_reasons(rejected: dict[str, int]) -> str:
    shown = sorted(rejected.items(), key=lambda kv: -kv[1])[:5]
    return ", ".join(f"{reason} {n:,}" for reason, n in shown) or "none"


def check_trainable(report: dict, dead_letter_uri: str, report_uri: str) -> None:
    """Raise :class:`NothingToTrainError` when ingestion produced no training example.

    Stopping here, with the counts that explain why, beats letting Transform fail on an
    empty split with an error that names a feature, not the input.
    """
    events, items, out = report["events"], report["items"], report["output"]
    if out["train_examples"] > 0:
        return
    where = f"Each rejected row's reason, file and line: {dead_letter_uri}; counts: {report_uri}."
    if events["accepted"] == 0:
        raise NothingToTrainError(
            f"ingestion accepted none of the {events['rows_in']:,} event rows (rejected: "
            f"{_top_reasons(events['rejected'])}; duplicates {events['duplicates_removed']:,}, "
            f"bot events {events['bot_filtered']:,}), so there is nothing to train on. Items: "
            f"{items['accepted']:,} of {items['rows_in']:,} accepted (rejected: "
            f"{_top_reasons(items['rejected'])}). {where} Fix the input and run again."
        )
    raise NothingToTrainError(
        f"ingestion accepted {events['accepted']:,} of {events['rows_in']:,} event rows, but "
        f"none of their {out['interactions']:,} interactions starts before the eval cutoff "
        f"({report.get('eval_cutoff_iso')}), so there is no training example. {where} Move the "
        "cutoff (ingestion.eval_cutoff, ingestion.eval_fraction) or give earlier events."
    )
