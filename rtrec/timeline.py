"""One user's timeline, by the rules that ingestion, the benchmark and the gateway share.

Pseudonymization, dedupe, bot detection, sessions, interactions (funnels collapsed) and
next-item examples, in pure Python over one user's events: every rule is unit-testable without
Beam, the Beam pipeline calls these after grouping events by pseudonymized user, and the
real-time gateway rebuilds a user's history with the same functions, so a served history is
exactly what training saw.

An *interaction* is a run of consecutive events on the same item within a session (a view, its
click, add-to-cart and purchase): it starts when the first of them happens and counts as its
strongest event type. Each interaction is a next-item target; its history is the user's earlier
interactions that had fully ended before it started, so a history never holds anything at or
after its target's timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rtrec import contract as c
from rtrec import features as fk

BOT_WINDOW_S = 60.0
# Funnel rank breaks ties between events of equal timestamp (a view precedes its click).
FUNNEL_RANK: dict[str, int] = {t: i for i, t in enumerate((c.SEARCH, *c.EVENT_TYPES[:-1]))}


DEVELOPMENT_KEY = b"rtrec-development-key"
"""Used (with a warning) when the key's environment variable is unset: fine for the sample
world, never for real data (anyone can recompute its pseudonyms)."""


def pseudonym_key(env_var: str) -> bytes:
    """The HMAC key user ids are pseudonymized with, from ``env_var``; ingestion and the
    gateway read the same variable (``ingestion.pseudonym_key_env``), so their keys agree."""
    key = os.environ.get(env_var, "")
    if not key:
        logging.getLogger(__name__).warning(
            "%s is not set: user ids are hashed with the public development key. Set it to a "
            "secret for real data, or pseudonymized ids can be reversed by guessing.",
            env_var,
        )
        return DEVELOPMENT_KEY
    return key.encode("utf-8")


def pseudonymize(user_id: str, key: bytes) -> str:
    """Keyed hash (HMAC-SHA256) of a user id: stable per key, not reversible without it."""
    return hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:24]


class Event(NamedTuple):
    """A valid event. ``order`` (file index, row) is its input position, for stable ties."""

    user: str
    item: str
    event_type: str
    ts: float
    value: float | None
    query: str
    session: str
    order: tuple[int, int]

    def sort_key(self) -> tuple[float, int, tuple[int, int]]:
        return (self.ts, FUNNEL_RANK[self.event_type], self.order)

    def dedupe_key(self) -> tuple:
        """Exact-duplicate identity: every field but the input position."""
        return (self.item, self.event_type, self.ts, self.value, self.query, self.session)


class Interaction(NamedTuple):
    """A run of events on one item in one session, as one step of the user's history."""

    item: str
    event_type: str
    weight: float
    start: float
    end: float
    session: int
    value: float | None
    query: str
    """The most recent search query of the session before this interaction ('' if none)."""


def dedupe(events: Iterable[Event]) -> tuple[list[Event], int]:
    """Drop exact duplicates (same fields, any input position); keep the first by input order."""
    ordered = sorted(events, key=lambda e: e.order)
    seen: set[tuple] = set()
    kept: list[Event] = []
    for event in ordered:
        key = event.dedupe_key()
        if key not in seen:
            seen.add(key)
            kept.append(event)
    return kept, len(ordered) - len(kept)


def is_bot(sorted_events: Sequence[Event], max_events_per_minute: int) -> bool:
    """True if more than ``max_events_per_minute`` events fall in any 60-second window."""
    start = 0
    for end, event in enumerate(sorted_events):
        while event.ts - sorted_events[start].ts >= BOT_WINDOW_S:
            start += 1
        if end - start + 1 > max_events_per_minute:
            return True
    return False


def sessionize(sorted_events: Sequence[Event], gap_s: float) -> list[int]:
    """Session index per event: a new session after ``gap_s`` of inactivity or a new session_id."""
    sessions: list[int] = []
    current = -1
    for i, event in enumerate(sorted_events):
        if i == 0:
            current = 0
        else:
            prev = sorted_events[i - 1]
            if event.ts - prev.ts > gap_s or (event.session and event.session != prev.session):
                current += 1
        sessions.append(current)
    return sessions


def interactions(
    sorted_events: Sequence[Event], sessions: Sequence[int], weights: dict[str, float]
) -> list[Interaction]:
    """Collapse runs of same-item events within a session; attach the session's last query."""
    out: list[Interaction] = []
    query_by_session: dict[int, str] = {}
    for event, session in zip(sorted_events, sessions):
        if event.event_type == c.SEARCH:
            query_by_session[session] = event.query
            continue
        weight = weights.get(event.event_type, 0.0)
        last = out[-1] if out else None
        if last is not None and last.item == event.item and last.session == session:
            stronger = weight > last.weight
            out[-1] = last._replace(
                event_type=event.event_type if stronger else last.event_type,
                weight=max(weight, last.weight),
                end=event.ts,
                value=event.value if event.value is not None else last.value,
            )
            continue
        query = query_by_session.pop(session, "")
        out.append(
            Interaction(
                event.item,
                event.event_type,
                weight,
                event.ts,
                event.ts,
                session,
                event.value,
                query,
            )
        )
    return out


def steps_of(
    events: Iterable[Event], session_gap_s: float, weights: dict[str, float]
) -> list[Interaction]:
    """A user's events (any order) -> their interactions in time order: sorted with the funnel
    tie-break, sessionized, funnels collapsed. The served history is the last N of these."""
    ordered = sorted(events, key=Event.sort_key)
    return interactions(ordered, sessionize(ordered, session_gap_s), weights)


def _padded(values: list, length: int, pad) -> list:
    """Left-pad (most recent last) or keep the most recent ``length`` values."""
    values = values[-length:]
    return [pad] * (length - len(values)) + values


def _history_before(steps: Sequence[Interaction], i: int, limit: int) -> list[Interaction]:
    """The last ``limit`` steps before ``i`` that ended strictly before step ``i`` started.

    Steps are in time order, so scanning backwards stops after ``limit`` hits: O(limit).
    """
    start = steps[i].start
    picked: list[Interaction] = []
    for j in range(i - 1, -1, -1):
        if len(picked) == limit:
            break
        if steps[j].end < start:
            picked.append(steps[j])
    picked.reverse()
    return picked


def build_examples(
    user_key: str,
    steps: Sequence[Interaction],
    history_length: int,
    cutoff: float,
    seen_in_train: frozenset[str] | set[str],
) -> Iterable[tuple[str, dict]]:
    """Yield (split, features) for every interaction as a target, split by target time.

    ``split`` is 'train' when the target started before ``cutoff``, else 'eval'. History holds
    only interactions that ended strictly before the target started (no leakage at equal
    timestamps). ``seen_in_train`` marks eval targets whose item had no training interaction.
    """
    for i, target in enumerate(steps):
        history = _history_before(steps, i, history_length)
        split = "train" if target.start < cutoff else "eval"
        session_steps = [h for h in history if h.session == target.session]
        session_start = session_steps[0].start if session_steps else target.start
        unseen = split == "eval" and target.item not in seen_in_train
        yield (
            split,
            {
                fk.USER_KEY: user_key,
                fk.HISTORY_ITEM_IDS: _padded(
                    [h.item for h in history], history_length, fk.PAD_ITEM
                ),
                fk.HISTORY_EVENT_TYPES: _padded(
                    [h.event_type for h in history], history_length, fk.PAD_ITEM
                ),
                fk.HISTORY_AGES_S: _padded(
                    [target.start - h.start for h in history], history_length, fk.PAD_AGE
                ),
                fk.HISTORY_TIMESTAMPS: _padded([int(h.start) for h in history], history_length, 0),
                fk.HISTORY_LENGTH: len(history),
                fk.HISTORY_BUCKET: fk.history_bucket(len(history)),
                fk.SESSION_POSITION: len(session_steps),
                fk.SESSION_ELAPSED_S: target.start - session_start,
                fk.QUERY: target.query,
                fk.TARGET_ITEM_ID: target.item,
                fk.TARGET_EVENT_TYPE: target.event_type,
                fk.TARGET_WEIGHT: target.weight,
                fk.TARGET_VALUE: target.value if target.value is not None else 0.0,
                fk.TIMESTAMP: int(target.start),
                fk.TARGET_UNSEEN_IN_TRAIN: int(unseen),
            },
        )
