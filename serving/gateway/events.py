"""``POST /v1/events``: ingestion's row rules, then the log (fsync), then the online store.

Each row goes through ``rtrec.validation.EventParser`` exactly as a row of an event file does
(pseudonymized with the same key; clamped or rejected on clock skew; queries truncated), then
through the checks ingestion makes over more than one row, done here against what the gateway
knows:

- ``unknown_item``: the id is neither in the model's catalog (``item_vectors``' ``known``, cached
  per version) nor added through ``POST /v1/items``. With the model server down, ids whose
  membership is not cached are accepted and the response says ``catalog_checked: false``;
  ingestion checks them again.
- ``duplicate``: an exact repeat of a stored event or of an earlier row (ingestion's ``dedupe``),
  so a retried batch is applied once.
- ``bot``: the row would put more than ``bot_max_events_per_minute`` of the user's events in one
  minute (``rtrec.timeline.is_bot``); rejecting it keeps the logged user below the rule, so
  ingestion does not drop them later.
- ``forgotten_user``: the user was deleted (``DELETE /v1/users/{id}``).

Rejected rows are reported by index and written nowhere; accepted rows are appended to the
event log (one fsync), then to each user's history in the store. Writes for one user are
serialized in this process (striped locks), so two batches of one user cannot both pass the
duplicate and bot checks against the same stale history.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rtrec import contract as c
from rtrec import reasons as r
from rtrec import timeline
from rtrec.timeline import Event
from rtrec.validation import EventParser, RawRow, Rejection
from serving.gateway.event_log import EventLog
from serving.gateway.history import to_event
from serving.gateway.schemas import EventIn, RowRejection
from serving.gateway.settings import Settings
from serving.gateway.store import OnlineStore, StoredEvent, UnknownImpressionError

ATTRIBUTED_TYPES = frozenset({c.CLICK, c.ADD_TO_CART, c.PURCHASE})
_STRIPES = 64


@dataclass
class BatchResult:
    accepted: int = 0
    rejected: list[RowRejection] = field(default_factory=list)
    attributed: int = 0
    catalog_checked: bool = True


def _fields(event: EventIn) -> dict[str, str]:
    """The row as the strings a file reader would hand to the parser."""
    ts = event.timestamp
    value = event.value
    return {
        c.USER_ID: event.user_id,
        c.ITEM_ID: event.item_id,
        c.EVENT_TYPE: event.event_type,
        c.TIMESTAMP: ts if isinstance(ts, str) else repr(ts),
        c.VALUE: "" if value is None else repr(value),
        c.QUERY: event.query,
        c.SESSION_ID: event.session_id,
    }


def log_row(raw_user_id: str, event: Event, request_id: str) -> dict:
    """The accepted event in the input contract, as the event log stores it."""
    row = {
        c.USER_ID: raw_user_id.strip(),
        c.ITEM_ID: event.item,
        c.EVENT_TYPE: event.event_type,
        c.TIMESTAMP: event.ts,
        c.VALUE: event.value,
        c.QUERY: event.query,
        c.SESSION_ID: event.session,
    }
    if request_id:
        row["request_id"] = request_id
    return row


def would_be_bot(times: list[float], ts: float, limit: int) -> bool:
    """Whether adding an event at ``ts`` to ``times`` (sorted) makes a minute with more than
    ``limit`` events; only windows around ``ts`` can change, so only they are checked."""
    low = bisect.bisect_right(times, ts - timeline.BOT_WINDOW_S)
    high = bisect.bisect_left(times, ts + timeline.BOT_WINDOW_S)
    window = sorted([*times[low:high], ts])
    fake = [Event("", "", c.VIEW, t, None, "", "", (0, n)) for n, t in enumerate(window)]
    return timeline.is_bot(fake, limit)


class EventIngest:
    """Validates and applies event batches; one per gateway process."""

    def __init__(
        self,
        settings: Settings,
        store: OnlineStore,
        log: EventLog,
        known_items: Callable[[set[str]], dict[str, bool | None]],
        count: Callable[[str, int], None] = lambda outcome, n: None,
    ) -> None:
        """``known_items(ids)``: id -> True/False, or None when the catalog cannot be asked.
        ``count(outcome, n)``: told 'accepted' or a reason code per batch (metrics)."""
        self.s, self.store, self.log = settings, store, log
        self.known_items = known_items
        self.count = count
        self._locks = [threading.Lock() for _ in range(_STRIPES)]

    def apply(self, batch: Sequence[EventIn]) -> BatchResult:
        now = time.time()
        s = self.s
        parser = EventParser(s.key, now, s.max_clock_skew_s, s.max_text_chars)
        result = BatchResult()
        reject = result.rejected
        parsed_rows = []
        for index, event in enumerate(batch):
            raw = RawRow("api", 0, index, index + 1, _fields(event), "")
            parsed, _ = parser.parse(raw)
            if isinstance(parsed, Rejection):
                reject.append(RowRejection(index=index, reason=parsed.reason,
                                           detail=parsed.detail))  # fmt: skip
            else:
                parsed_rows.append((index, parsed, event))
        known = self.known_items({e.item for _, e, _ in parsed_rows if e.item})
        rows: dict[str, list[tuple[int, Event, EventIn]]] = defaultdict(list)
        for index, parsed, event in parsed_rows:
            if parsed.item:
                if known[parsed.item] is None:
                    result.catalog_checked = False
                elif not known[parsed.item]:
                    detail = f"item_id {parsed.item!r} is not in the model's catalog nor added"
                    reject.append(RowRejection(index=index, reason=r.UNKNOWN_ITEM, detail=detail))
                    continue
            rows[parsed.user].append((index, parsed, event))
        users = sorted(rows)
        stripes = sorted({hash(u) % _STRIPES for u in users})
        for stripe in stripes:
            self._locks[stripe].acquire()
        try:
            kept = {user: self._screen(user, rows[user], reject) for user in users}
            accepted = [(u, row) for u in users for row in kept[u]]
            if accepted:
                accepted.sort(key=lambda x: x[1][0])
                self.log.append_events([log_row(e.user_id, ev, e.request_id)
                                        for _, (_, ev, e) in accepted], now)  # fmt: skip
                for user in users:
                    if kept[user]:
                        self.store.append_events(user, [_stored(ev) for _, ev, _ in kept[user]],
                                                 s.keep_last)  # fmt: skip
        finally:
            for stripe in stripes:
                self._locks[stripe].release()
        result.accepted = len(accepted)
        result.attributed = self._attribute(accepted)
        reject.sort(key=lambda x: x.index)
        self.count("accepted", result.accepted)
        for rejection in reject:
            self.count(rejection.reason, 1)
        return result

    def _screen(self, user: str, rows: list, reject: list[RowRejection]) -> list:
        """The user's rows that pass the forgotten, duplicate and bot checks, in input order."""
        if self.store.is_forgotten(user):
            for index, _, _ in rows:
                reject.append(
                    RowRejection(
                        index=index,
                        reason=r.FORGOTTEN_USER,
                        detail="this user was forgotten; nothing is kept",
                    )
                )
            return []  # fmt: skip
        stored = [to_event(user, e) for e in self.store.events(user)]
        seen = {e.dedupe_key() for e in stored}
        times = sorted(e.ts for e in stored)
        kept = []
        limit = self.s.bot_max_events_per_minute
        for index, event, body in rows:
            if event.dedupe_key() in seen:
                reject.append(
                    RowRejection(
                        index=index,
                        reason=r.DUPLICATE,
                        detail="an exact repeat of an event already kept",
                    )
                )
                continue  # fmt: skip
            if would_be_bot(times, event.ts, limit):
                detail = f"more than {limit} events of this user within one minute"
                reject.append(RowRejection(index=index, reason=r.BOT, detail=detail))
                continue
            seen.add(event.dedupe_key())
            bisect.insort(times, event.ts)
            kept.append((index, event, body))
        return kept

    def _attribute(self, accepted: list) -> int:
        """Credit clicks carrying a ``request_id`` to the impression that showed the item."""
        attributed = 0
        for _, (_, event, body) in accepted:
            if body.request_id and event.event_type in ATTRIBUTED_TYPES:
                try:
                    attributed += self.store.record_click(body.request_id, event.item, event.ts)
                except (UnknownImpressionError, ValueError):
                    continue  # unknown request or item, or a time the store refuses: not credited
        return attributed


def _stored(event: Event) -> StoredEvent:
    return StoredEvent(
        item_id=event.item,
        event_type=event.event_type,
        timestamp=event.ts,
        value=event.value,
        query=event.query,
        session_id=event.session,
    )
