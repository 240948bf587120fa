"""The shared online store: Redis, through the `redis` client (redis-py), for several gateways.

Why Redis: gateway replicas on several hosts need one low-latency view of each user. Each
user's history is a sorted set scored by timestamp whose members start with a zero-padded
arrival number, so Redis itself orders ties by arrival. Append, trim and the tombstone check
run in one Lua script, which Redis executes atomically; forgets use MULTI/EXEC.

Durability is the server's configuration, not this code's: with `appendonly yes` and
`appendfsync always` Redis writes every command to its append-only file before replying, so an
acknowledged append survives `kill -9` of the server (the tests run it that way). The client
retries a dropped connection twice, briefly: a write whose reply was lost may then be applied
twice, which for events means one duplicate in a capped history, not a lost one.

Key layout under `prefix` (default ``rtrec:``): ``events:<user>`` (zset), ``seq:<user>``
(counter), ``tombstones`` (hash user -> time), ``items`` (hash id -> JSON), ``impressions``
(hash request id -> JSON), ``impressions:by_time`` (zset of "<time>|<id>", read by range),
``clicks:<request id>`` (hash item id -> time).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from serving.gateway.store.base import (
    DuplicateImpressionError,
    Impression,
    OnlineStore,
    StoredEvent,
    StoredItem,
    StoreError,
    StoreUnavailableError,
    UnknownImpressionError,
    UserForgottenError,
    check_events,
    check_time,
    check_user_key,
)

_PAGE = 500
_FORGOTTEN = "RTREC_FORGOTTEN"
# KEYS: events zset, seq counter, tombstones hash. ARGV: user key, keep_last, (score, payload)*.
_APPEND = f"""
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  return redis.error_reply('{_FORGOTTEN} user key is tombstoned')
end
local n = (#ARGV - 2) / 2
if n > 0 then
  local first = redis.call('INCRBY', KEYS[2], n) - n
  for i = 0, n - 1 do
    local member = string.format('%020d', first + i) .. ':' .. ARGV[4 + 2 * i]
    redis.call('ZADD', KEYS[1], ARGV[3 + 2 * i], member)
  end
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 1))
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
# KEYS: impressions hash, time index zset. ARGV: request id, index member, JSON.
_LOG_IMPRESSION = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
"""


class RedisStore(OnlineStore):
    """`OnlineStore` on a Redis server at `url` (``redis://HOST:PORT/DB``); connects lazily.

    `timeout_s` bounds each socket operation, so a hung server fails a request instead of
    stalling a handler thread; call `ping()` at startup to fail fast on a wrong URL.
    """

    def __init__(self, url: str, *, prefix: str = "rtrec:", timeout_s: float = 2.0) -> None:
        self._client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=2),
            health_check_interval=30,
        )
        kwargs = self._client.connection_pool.connection_kwargs
        self.where = f"Redis store {kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"
        self._prefix = prefix
        self._closed = False
        self._append = self._client.register_script(_APPEND)
        self._log_impression = self._client.register_script(_LOG_IMPRESSION)

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Client errors -> store errors that name the server and what to do."""
        if self._closed:
            raise StoreUnavailableError(f"{self.where} was closed; open a new store")
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailableError(
                f"{self.where} is unreachable ({exc}); start the server or fix the store URL"
            ) from exc
        except redis.RedisError as exc:
            raise StoreError(f"{self.where}: {exc}") from exc

    def append_events(
        self, user_key: str, events: Sequence[StoredEvent], keep_last: int
    ) -> list[StoredEvent]:
        check_user_key(user_key)
        check_events(events, keep_last)
        args: list[object] = [user_key, keep_last]
        for event in events:
            payload = {k: v for k, v in event.to_dict().items() if k != "seq"}
            args += [repr(event.timestamp), json.dumps(payload)]
        keys = [self._key("events", user_key), self._key("seq", user_key), self._key("tombstones")]
        try:
            with self._errors():
                members = self._append(keys=keys, args=args)
        except StoreError as exc:
            if _FORGOTTEN not in str(exc):
                raise
            raise UserForgottenError(
                f"user key {user_key} was forgotten; the {self.where} refuses new events for it "
                "(drop them in the gateway before storing)"
            ) from None
        return [_event(m) for m in members]

    def events(self, user_key: str) -> list[StoredEvent]:
        check_user_key(user_key)
        with self._errors():
            return [_event(m) for m in self._client.zrange(self._key("events", user_key), 0, -1)]

    def forget_user(self, user_key: str, at: float | None = None) -> bool:
        check_user_key(user_key)
        at = time.time() if at is None else at
        with self._errors():
            pipe = self._client.pipeline(transaction=True)
            pipe.delete(self._key("events", user_key))
            pipe.delete(self._key("seq", user_key))
            pipe.hsetnx(self._key("tombstones"), user_key, repr(at))
            deleted, _, _ = pipe.execute()
        return deleted > 0

    def is_forgotten(self, user_key: str) -> bool:
        check_user_key(user_key)
        with self._errors():
            return bool(self._client.hexists(self._key("tombstones"), user_key))

    def tombstones(self) -> dict[str, float]:
        with self._errors():
            stored = self._client.hgetall(self._key("tombstones"))
        return {key: float(at) for key, at in stored.items()}

    def put_items(self, items: Sequence[StoredItem]) -> None:
        if not items:
            return
        mapping = {item.item_id: json.dumps(item.to_dict()) for item in items}
        with self._errors():
            self._client.hset(self._key("items"), mapping=mapping)

    def items(self) -> list[StoredItem]:
        with self._errors():
            stored = self._client.hvals(self._key("items"))
        items = [StoredItem.from_dict(json.loads(s)) for s in stored]
        return sorted(items, key=lambda i: (i.added_at, i.item_id))

    def item(self, item_id: str) -> StoredItem | None:
        with self._errors():
            stored = self._client.hget(self._key("items"), item_id)
        return None if stored is None else StoredItem.from_dict(json.loads(stored))

    def log_impression(
        self,
        request_id: str,
        user_key: str,
        arm: str,
        model_version: str,
        item_ids: Sequence[str],
        at: float,
    ) -> None:
        check_user_key(user_key)
        check_time(at, "impression")
        record = Impression(request_id, user_key, arm, model_version, tuple(item_ids), at)
        payload = {k: v for k, v in record.to_dict().items() if k != "clicks"}
        keys = [self._key("impressions"), self._key("impressions", "by_time")]
        with self._errors():
            added = self._log_impression(
                keys=keys, args=[request_id, _index_member(at, request_id), json.dumps(payload)]
            )
        if not added:
            raise DuplicateImpressionError(
                f"request id {request_id!r} already has an impression in the {self.where}; "
                "give every request its own id"
            )

    def impression(self, request_id: str) -> Impression | None:
        return self._impressions([request_id])[0]

    def record_click(self, request_id: str, item_id: str, at: float) -> bool:
        check_time(at, "click")
        # Impressions are never changed once logged, so checking first and then setting the
        # click cannot race with another writer; HSETNX makes the click itself idempotent.
        with self._errors():
            stored = self._client.hget(self._key("impressions"), request_id)
            if stored is None or item_id not in json.loads(stored)["item_ids"]:
                raise UnknownImpressionError(
                    f"click on item {item_id!r} for request {request_id!r}: "
                    + ("no such request" if stored is None else "that request did not show it")
                    + f" in the {self.where}; clicks must name a logged impression"
                )
            return bool(self._client.hsetnx(self._key("clicks", request_id), item_id, repr(at)))

    def impressions(self) -> Iterator[Impression]:
        index, low = self._key("impressions", "by_time"), "-"
        while True:
            with self._errors():
                members = self._client.zrangebylex(index, low, "+", start=0, num=_PAGE)
            page = self._impressions([m.split("|", 1)[1] for m in members])
            yield from (imp for imp in page if imp is not None)
            if len(members) < _PAGE:
                return
            low = "(" + members[-1]

    def _impressions(self, request_ids: list[str]) -> list[Impression | None]:
        """Impressions with their clicks in one round trip (None where an id is unknown)."""
        if not request_ids:
            return []
        with self._errors():
            pipe = self._client.pipeline(transaction=False)
            pipe.hmget(self._key("impressions"), request_ids)
            for request_id in request_ids:
                pipe.hgetall(self._key("clicks", request_id))
            stored, *clicks = pipe.execute()
        return [
            None
            if s is None
            else Impression.from_dict(
                {**json.loads(s), "clicks": {i: float(t) for i, t in c.items()}}
            )
            for s, c in zip(stored, clicks)
        ]

    def ping(self) -> None:
        with self._errors():
            self._client.ping()

    def close(self) -> None:
        self._closed = True
        self._client.close()


def _event(member: str) -> StoredEvent:
    seq, payload = member.split(":", 1)
    return StoredEvent.from_dict({**json.loads(payload), "seq": int(seq)})


def _index_member(at: float, request_id: str) -> str:
    """Fixed-width time first, so Redis's byte order of members is time order (0 <= at < 1e11)."""
    return f"{at:018.6f}|{request_id}"
