"""The single-machine online store: one SQLite file (Python's stdlib `sqlite3` does the work).

Why SQLite: a gateway on one host needs durable per-user state with no server to run. WAL mode
lets readers proceed while one writer commits; `synchronous=FULL` syncs the WAL on every commit,
so an acknowledged write survives a process kill (which WAL alone already gives) and a power cut.
Each thread gets its own connection (sqlite3 connections are not meant to be shared), every
write runs in `BEGIN IMMEDIATE` so writers queue on SQLite's lock instead of failing halfway,
and `busy_timeout` bounds that wait. Several gateway processes may share one file the same way.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

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

SCHEMA_VERSION = 1
_PAGE = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    user_key TEXT NOT NULL, seq INTEGER NOT NULL, timestamp REAL NOT NULL, item_id TEXT NOT NULL,
    event_type TEXT NOT NULL, value REAL, query TEXT NOT NULL, session_id TEXT NOT NULL,
    PRIMARY KEY (user_key, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_time ON events (user_key, timestamp, seq);
CREATE TABLE IF NOT EXISTS users (user_key TEXT PRIMARY KEY, next_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tombstones (user_key TEXT PRIMARY KEY, forgotten_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL,
    category TEXT NOT NULL, text TEXT NOT NULL, vector TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS impressions (
    request_id TEXT PRIMARY KEY, user_key TEXT NOT NULL, arm TEXT NOT NULL,
    model_version TEXT NOT NULL, item_ids TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS impressions_by_time ON impressions (at, request_id);
CREATE TABLE IF NOT EXISTS clicks (
    request_id TEXT NOT NULL, item_id TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (request_id, item_id)) WITHOUT ROWID;
"""
_EVENT_COLUMNS = "item_id, event_type, timestamp, value, query, session_id, seq"


class SQLiteStore(OnlineStore):
    """`OnlineStore` in one SQLite file; `path`'s folder must exist, the file is created."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise StoreUnavailableError(
                f"SQLite store {self.path}: folder {self.path.parent} does not exist; "
                "create it or point the store URL elsewhere"
            )
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        with self._transaction(write=True) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(
                    f"SQLite store {self.path} has schema version {version}, this code reads "
                    f"{SCHEMA_VERSION}: use a new file or a matching rtrec version"
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreUnavailableError(f"SQLite store {self.path} is closed; open a new one")
        db = getattr(self._local, "db", None)
        if db is None:
            # Autocommit mode (isolation_level=None): transactions are the explicit BEGINs below.
            db = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                db.close()
                raise StoreError(
                    f"SQLite store {self.path}: the file system refused WAL mode (got {mode!r}); "
                    "put the store on a local disk"
                )
            db.execute("PRAGMA synchronous=FULL")
            with self._lock:
                self._connections.append(db)
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection; sqlite3 errors become store errors."""
        try:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:  # re-raised: even an interrupt must not leave BEGIN open
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailableError(f"SQLite store {self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self.path}: {exc}") from exc

    def append_events(
        self, user_key: str, events: Sequence[StoredEvent], keep_last: int
    ) -> list[StoredEvent]:
        check_user_key(user_key)
        check_events(events, keep_last)
        with self._transaction(write=True) as db:
            if _is_forgotten(db, user_key):
                raise UserForgottenError(
                    f"user key {user_key} was forgotten; the SQLite store {self.path} refuses "
                    "new events for it (drop them in the gateway before storing)"
                )
            row = db.execute("SELECT next_seq FROM users WHERE user_key = ?", (user_key,))
            first = (row.fetchone() or (0,))[0]
            numbered = [replace(e, seq=first + i) for i, e in enumerate(events)]
            db.executemany(
                f"INSERT INTO events (user_key, {_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(user_key, *_event_row(e)) for e in numbered],
            )
            db.execute(
                "INSERT INTO users VALUES (?, ?) "
                "ON CONFLICT (user_key) DO UPDATE SET next_seq = excluded.next_seq",
                (user_key, first + len(numbered)),
            )
            db.execute(
                "DELETE FROM events WHERE user_key = ? AND seq IN (SELECT seq FROM events "
                "WHERE user_key = ? ORDER BY timestamp DESC, seq DESC LIMIT -1 OFFSET ?)",
                (user_key, user_key, keep_last),
            )
            return _select_events(db, user_key)

    def events(self, user_key: str) -> list[StoredEvent]:
        check_user_key(user_key)
        with self._transaction() as db:
            return _select_events(db, user_key)

    def forget_user(self, user_key: str, at: float | None = None) -> bool:
        check_user_key(user_key)
        at = time.time() if at is None else at
        with self._transaction(write=True) as db:
            deleted = db.execute("DELETE FROM events WHERE user_key = ?", (user_key,)).rowcount
            db.execute("DELETE FROM users WHERE user_key = ?", (user_key,))
            db.execute("INSERT OR IGNORE INTO tombstones VALUES (?, ?)", (user_key, at))
        return deleted > 0

    def is_forgotten(self, user_key: str) -> bool:
        check_user_key(user_key)
        with self._transaction() as db:
            return _is_forgotten(db, user_key)

    def tombstones(self) -> dict[str, float]:
        with self._transaction() as db:
            return dict(db.execute("SELECT user_key, forgotten_at FROM tombstones"))

    def put_items(self, items: Sequence[StoredItem]) -> None:
        rows = [_item_row(item) for item in items]
        with self._transaction(write=True) as db:
            db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def items(self) -> list[StoredItem]:
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM items ORDER BY added_at, item_id").fetchall()
        return [_item(row) for row in rows]

    def item(self, item_id: str) -> StoredItem | None:
        with self._transaction() as db:
            row = db.execute("SELECT * FROM items WHERE item_id = ?", (item_id,)).fetchone()
        return None if row is None else _item(row)

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
        row = (request_id, user_key, arm, model_version, json.dumps(list(item_ids)), at)
        with self._transaction(write=True) as db:
            try:
                db.execute("INSERT INTO impressions VALUES (?, ?, ?, ?, ?, ?)", row)
            except sqlite3.IntegrityError:
                raise DuplicateImpressionError(
                    f"request id {request_id!r} already has an impression in the SQLite store "
                    f"{self.path}; give every request its own id"
                ) from None

    def impression(self, request_id: str) -> Impression | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM impressions WHERE request_id = ?", (request_id,)
            ).fetchone()
            return None if row is None else _impressions(db, [row])[0]

    def record_click(self, request_id: str, item_id: str, at: float) -> bool:
        check_time(at, "click")
        with self._transaction(write=True) as db:
            row = db.execute(
                "SELECT item_ids FROM impressions WHERE request_id = ?", (request_id,)
            ).fetchone()
            if row is None or item_id not in json.loads(row[0]):
                raise UnknownImpressionError(
                    f"click on item {item_id!r} for request {request_id!r}: "
                    + ("no such request" if row is None else "that request did not show it")
                    + f" in the SQLite store {self.path}; clicks must name a logged impression"
                )
            cursor = db.execute(
                "INSERT OR IGNORE INTO clicks VALUES (?, ?, ?)", (request_id, item_id, at)
            )
            return cursor.rowcount == 1

    def impressions(self) -> Iterator[Impression]:
        after: tuple[float, str] = (float("-inf"), "")
        while True:
            with self._transaction() as db:
                rows = db.execute(
                    "SELECT * FROM impressions WHERE (at, request_id) > (?, ?) "
                    "ORDER BY at, request_id LIMIT ?",
                    (*after, _PAGE),
                ).fetchall()
                page = _impressions(db, rows)
            yield from page
            if len(rows) < _PAGE:
                return
            after = (page[-1].at, page[-1].request_id)

    def ping(self) -> None:
        with self._transaction() as db:
            db.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for db in self._connections:
                db.close()
            self._connections.clear()


def _is_forgotten(db: sqlite3.Connection, user_key: str) -> bool:
    row = db.execute("SELECT 1 FROM tombstones WHERE user_key = ?", (user_key,)).fetchone()
    return row is not None


def _event_row(e: StoredEvent) -> tuple:
    return (e.item_id, e.event_type, e.timestamp, e.value, e.query, e.session_id, e.seq)


def _select_events(db: sqlite3.Connection, user_key: str) -> list[StoredEvent]:
    rows = db.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE user_key = ? ORDER BY timestamp, seq",
        (user_key,),
    )
    return [StoredEvent(*row) for row in rows]


def _item_row(i: StoredItem) -> tuple:
    return (i.item_id, i.title, i.description, i.category, i.text, json.dumps(i.vector), i.added_at)


def _item(row: tuple) -> StoredItem:
    item_id, title, description, category, text, vector, added_at = row
    return StoredItem(item_id, title, description, category, text, json.loads(vector), added_at)


def _impressions(db: sqlite3.Connection, rows: list[tuple]) -> list[Impression]:
    """Impression rows -> `Impression`s with their clicks (one query for the whole page)."""
    clicks: dict[str, dict[str, float]] = {row[0]: {} for row in rows}
    if rows:
        marks = ", ".join("?" * len(rows))
        query = f"SELECT request_id, item_id, at FROM clicks WHERE request_id IN ({marks})"
        for request_id, item_id, at in db.execute(query, list(clicks)):
            clicks[request_id][item_id] = at
    return [
        Impression(rid, user, arm, version, tuple(json.loads(ids)), at, clicks[rid])
        for rid, user, arm, version, ids, at in rows
    ]
