"""A user's served history from their stored events, by the functions ingestion uses.

The store keeps raw validated events (a generous ``keep_last`` of them), not interactions: a
funnel (view, click, purchase of one item in one session) is one step of history, and only the
rules in ``rtrec.timeline`` know where a funnel or a session ends. At request time the events
become ``Event``s again (arrival order stands in for the input position, as one log file would
give it), are deduplicated, sorted with the funnel tie-break, sessionized and collapsed by
``steps_of``; the model sees the last ``history_length`` steps. That is what ingestion's
``build_examples`` puts in the history of an example whose target comes after all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rtrec import features as fk
from rtrec import timeline
from rtrec.timeline import Event, Interaction
from serving.gateway.store import StoredEvent


@dataclass(frozen=True)
class History:
    """The model's history inputs for one user, most recent last, unpadded."""

    item_ids: list[str]
    event_types: list[str]
    timestamps: list[int]

    def __len__(self) -> int:
        return len(self.item_ids)

    def inputs(self) -> dict[str, list]:
        """The three history inputs as a batch of one. An empty history is one pad column:
        the signatures need a rectangular [1, L >= 1] tensor, and pads are ignored."""
        if not self.item_ids:
            return {
                fk.HISTORY_ITEM_IDS: [[fk.PAD_ITEM]],
                fk.HISTORY_EVENT_TYPES: [[fk.PAD_ITEM]],
                fk.HISTORY_TIMESTAMPS: [[0]],
            }
        return {
            fk.HISTORY_ITEM_IDS: [self.item_ids],
            fk.HISTORY_EVENT_TYPES: [self.event_types],
            fk.HISTORY_TIMESTAMPS: [self.timestamps],
        }


def to_event(user_key: str, stored: StoredEvent) -> Event:
    """A stored event as ingestion's ``Event``; ``seq`` (arrival) is its input position."""
    return Event(
        user=user_key,
        item=stored.item_id,
        event_type=stored.event_type,
        ts=stored.timestamp,
        value=stored.value,
        query=stored.query,
        session=stored.session_id,
        order=(0, stored.seq),
    )


def steps(
    user_key: str, stored: Sequence[StoredEvent], session_gap_s: float, weights: dict[str, float]
) -> list[Interaction]:
    """The user's interactions in time order: deduplicated, sessionized, funnels collapsed."""
    events, _ = timeline.dedupe(to_event(user_key, e) for e in stored)
    return timeline.steps_of(events, session_gap_s, weights)


def served_history(
    user_key: str,
    stored: Sequence[StoredEvent],
    session_gap_s: float,
    weights: dict[str, float],
    length: int,
) -> History:
    """The last ``length`` interactions, as ``build_examples`` writes a history."""
    recent = steps(user_key, stored, session_gap_s, weights)[-length:]
    return History(
        [s.item for s in recent], [s.event_type for s in recent], [int(s.start) for s in recent]
    )
