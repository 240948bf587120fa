"""One suite for both store backends: order, caps, threads, forgetting, A/B logs, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from serving.gateway.store import (
    DuplicateImpressionError,
    OnlineStore,
    StoredEvent,
    StoredItem,
    StoreUnavailableError,
    StoreUrlError,
    UnknownImpressionError,
    UserForgottenError,
    open_store,
    redis_store,
    sqlite_store,
)
from serving.gateway.store.redis_store import RedisStore
from serving.gateway.store.sqlite_store import SQLiteStore

REPO = Path(__file__).resolve().parents[3]
ALICE, BOB = "a1" * 12, "b2" * 12


@dataclass
class Backend:
    """A store plus the means to crash or stop what is behind it."""

    name: str
    url: str
    store: OnlineStore
    server: object | None = None  # conftest.RedisServer for redis

    def reopen(self) -> OnlineStore:
        return open_store(self.url)

    def crash(self) -> None:
        """After a writer was killed: for Redis, kill -9 the server too and start it again."""
        if self.server is not None:
            self.server.kill()
            self.server.start(keep_port=True)

    def take_down(self) -> None:
        if self.server is not None:
            self.server.kill()
        else:
            self.store.close()


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        url, server = f"sqlite:///{tmp_path / 'gateway.db'}", None
    else:
        server = request.getfixturevalue("redis_server")
        url = server.url
    store = open_store(url)
    yield Backend(request.param, url, store, server)
    store.close()


def ev(item: str, ts: float, **kw: object) -> StoredEvent:
    return StoredEvent(item_id=item, event_type="view", timestamp=ts, **kw)


def test_open_store_picks_the_backend(backend: Backend) -> None:
    expected = SQLiteStore if backend.name == "sqlite" else RedisStore
    assert isinstance(backend.store, expected)
    backend.store.ping()


def test_append_returns_history_in_time_order_numbered_by_arrival(backend: Backend) -> None:
    store = backend.store
    first = store.append_events(ALICE, [ev("i2", 20.0), ev("i1", 10.0, value=4.5)], keep_last=10)
    assert [(e.item_id, e.seq) for e in first] == [("i1", 1), ("i2", 0)]
    late = ev("i0", 5.0, query="shoes", session_id="s1", seq=99)  # seq is the store's to set
    history = store.append_events(ALICE, [late], keep_last=10)
    assert history[0] == StoredEvent("i0", "view", 5.0, None, "shoes", "s1", 2)
    assert history[1].value == 4.5 and history[2].value is None
    assert store.events(ALICE) == history and store.events(BOB) == []
    assert json.loads(json.dumps(history[0].to_dict())) == history[0].to_dict()
    assert StoredEvent.from_dict(history[0].to_dict()) == history[0]


def test_trim_keeps_the_most_recent_by_time_then_arrival(backend: Backend) -> None:
    store = backend.store
    store.append_events(ALICE, [ev(f"tie{i}", 50.0) for i in range(5)], keep_last=3)
    assert [e.item_id for e in store.events(ALICE)] == ["tie2", "tie3", "tie4"]
    # An event older than everything kept is trimmed at once; a newer one pushes out the oldest.
    kept = store.append_events(ALICE, [ev("old", 1.0), ev("new", 60.0)], keep_last=3)
    assert [e.item_id for e in kept] == ["tie3", "tie4", "new"]
    assert [e.item_id for e in store.append_events(ALICE, [], keep_last=1)] == ["new"]
    with pytest.raises(ValueError, match="keep_last"):
        store.append_events(ALICE, [ev("x", 1.0)], keep_last=0)
    with pytest.raises(ValueError, match="timestamp"):
        store.append_events(ALICE, [ev("x", float("nan"))], keep_last=5)


@pytest.mark.parametrize("keep_last", [10_000, 37])
def test_concurrent_appends_lose_nothing_and_respect_the_cap(
    backend: Backend, keep_last: int
) -> None:
    threads, rounds = 8, 20
    store = backend.store

    def writer(t: int) -> None:
        for r in range(rounds):
            batch = [ev(f"t{t}r{r}e{k}", t * 1000.0 + r * 10 + k) for k in range(1 + r % 2)]
            assert len(store.append_events(ALICE, batch, keep_last=keep_last)) <= keep_last

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(writer, range(threads)))
    appended = threads * sum(1 + r % 2 for r in range(rounds))
    stored = store.events(ALICE)
    assert len(stored) == min(appended, keep_last)
    assert len({e.seq for e in stored}) == len(stored)
    every = sorted(
        (t * 1000.0 + r * 10 + k, f"t{t}r{r}e{k}")
        for t in range(threads)
        for r in range(rounds)
        for k in range(1 + r % 2)
    )
    assert [e.item_id for e in stored] == [item for _, item in every[-keep_last:]]
    if keep_last >= appended:
        assert sorted(e.seq for e in stored) == list(range(appended))


def test_forget_deletes_history_keeps_a_tombstone_and_refuses_appends(backend: Backend) -> None:
    store = backend.store
    store.append_events(ALICE, [ev("i1", 1.0)], keep_last=5)
    store.append_events(BOB, [ev("i2", 2.0)], keep_last=5)
    assert store.forget_user(ALICE, at=123.5) is True
    assert store.events(ALICE) == [] and store.is_forgotten(ALICE)
    assert not store.is_forgotten(BOB) and len(store.events(BOB)) == 1
    assert store.forget_user(ALICE, at=999.0) is False  # nothing left; first time kept
    assert store.tombstones() == {ALICE: 123.5}
    with pytest.raises(UserForgottenError, match=f"{ALICE} was forgotten"):
        store.append_events(ALICE, [ev("i3", 3.0)], keep_last=5)
    with pytest.raises(UserForgottenError):
        store.append_events(ALICE, [], keep_last=5)
    assert store.events(ALICE) == []
    assert store.forget_user("c3" * 12, at=7.0) is False  # unknown users can be forgotten
    assert store.tombstones() == {ALICE: 123.5, "c3" * 12: 7.0}


def test_raw_user_ids_never_reach_the_store(backend: Backend) -> None:
    with pytest.raises(ValueError, match="pseudonymize"):
        backend.store.append_events("alice@example.com", [ev("i", 1.0)], keep_last=5)
    with pytest.raises(ValueError, match="pseudonymize"):
        backend.store.log_impression("r1", "Alice", "control", "1", ["i"], at=1.0)


def test_items_are_upserted_by_id(backend: Backend) -> None:
    store = backend.store
    a = StoredItem("a", "Boots", "leather", "shoes|winter", "Boots leather", [0.1, -2.5e-8], 10.0)
    b = StoredItem("b", "Hat", vector=[1.0], added_at=5.0)
    store.put_items([a, b])
    assert store.items() == [b, a] and store.item("a") == a and store.item("zz") is None
    renamed = StoredItem("a", "Winter boots", vector=[0.3], added_at=1.0)
    store.put_items([renamed])
    assert store.items() == [renamed, b]
    store.put_items([])


def test_clicks_attribute_to_impressions_once(backend: Backend) -> None:
    store = backend.store
    store.log_impression("r1", ALICE, "control", "stable:3", ["i1", "i2", "i3"], at=100.0)
    store.log_impression("r0", BOB, "canary", "canary:4", ["i9"], at=100.0)
    with pytest.raises(DuplicateImpressionError, match="r1"):
        store.log_impression("r1", BOB, "canary", "canary:4", ["i1"], at=101.0)
    assert store.record_click("r1", "i2", at=105.0) is True
    assert store.record_click("r1", "i2", at=106.0) is False
    assert store.record_click("r1", "i3", at=107.0) is True
    with pytest.raises(UnknownImpressionError, match="no such request"):
        store.record_click("nope", "i2", at=108.0)
    with pytest.raises(UnknownImpressionError, match="did not show it"):
        store.record_click("r1", "i9", at=108.0)
    shown = store.impression("r1")
    assert shown.user_key == ALICE and shown.arm == "control" and shown.model_version == "stable:3"
    assert shown.item_ids == ("i1", "i2", "i3") and shown.at == 100.0
    assert shown.clicks == {"i2": 105.0, "i3": 107.0} and shown.clicked
    assert store.impression("missing") is None
    assert [(i.request_id, i.clicked) for i in store.impressions()] == [("r0", False), ("r1", True)]
    assert json.loads(json.dumps(shown.to_dict()))["item_ids"] == ["i1", "i2", "i3"]


def test_impressions_are_read_in_pages_each_once_in_time_order(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "_PAGE", 4)
    monkeypatch.setattr(redis_store, "_PAGE", 4)
    store = backend.store
    logged = [(f"r{n:02d}", 1000.0 + n // 3) for n in range(17)]  # ties across page borders
    for request_id, at in reversed(logged):
        store.log_impression(request_id, ALICE, "control", "1", ["i"], at=at)
    store.record_click("r05", "i", at=2000.0)
    read = list(store.impressions())
    assert [(i.request_id, i.at) for i in read] == logged
    assert [i.request_id for i in read if i.clicked] == ["r05"]


def test_store_unavailable_when_the_backend_is_down(backend: Backend) -> None:
    backend.store.append_events(ALICE, [ev("i1", 1.0)], keep_last=5)
    backend.take_down()
    with pytest.raises(StoreUnavailableError, match="Redis store|SQLite store") as raised:
        backend.store.ping()
    assert ("unreachable" if backend.name == "redis" else "closed") in str(raised.value)
    with pytest.raises(StoreUnavailableError):
        backend.store.events(ALICE)
    with pytest.raises(StoreUnavailableError):
        backend.store.append_events(ALICE, [ev("i2", 2.0)], keep_last=5)


_WRITER = textwrap.dedent(
    """
    import sys, time
    from serving.gateway.store import StoredEvent, open_store
    store = open_store(sys.argv[1])
    for n in range(20):
        store.append_events("a1" * 12, [StoredEvent(f"i{n}", "view", float(n))], keep_last=100)
        print(n, flush=True)
    time.sleep(120)
    """
)


def test_acknowledged_appends_survive_kill_9(backend: Backend) -> None:
    """A writer killed right after its acks, then (Redis) the server killed -9 and restarted."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, backend.url], cwd=REPO, env=env, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        acked = [int(writer.stdout.readline()) for _ in range(20)]
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    assert acked == list(range(20))
    backend.store.close()
    backend.crash()
    with backend.reopen() as reopened:
        assert [e.item_id for e in reopened.events(ALICE)] == [f"i{n}" for n in range(20)]


def test_open_store_refuses_unknown_urls(tmp_path: Path) -> None:
    for url in ("mysql://db/x", "sqlite://gateway.db", "sqlite:///", "sqlite:///:memory:", ""):
        with pytest.raises(StoreUrlError, match="sqlite:///PATH"):
            open_store(url)
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")


def test_sqlite_store_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        with store._transaction() as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
