"""The gateway's durable logs: accepted events, added items and tombstones, in the input contract.

Layout under ``gateway.event_log`` (DIR):

- ``DIR/events/span=<UTC day>/events-<host>-<pid>.jsonl``: accepted events, one JSON object per
  line with the contract's columns (``rtrec/contract.py``) plus ``request_id``: the next
  pipeline run reads the folder as a new span (``events=DIR/events``, or a glob with the
  product's own logs). ``user_id`` is the raw id, as in the product's own event logs, because
  ingestion pseudonymizes ids itself: this log needs the same access control as those logs.
  ``timestamp`` is the validated time (clamped to the gateway's clock when it ran ahead), so
  ingestion rebuilds exactly the history the gateway served.
- ``DIR/items/span=<UTC day>/items-<host>-<pid>.jsonl``: items added through the API, in the
  item contract, so the next catalog (``items=`` glob) holds them and their events are valid.
- ``DIR/tombstones.jsonl``: forgotten users' pseudonyms (``rtrec.tombstones``); point
  ``ingestion.tombstones`` at it.
- ``DIR/requests/span=<UTC day>/requests-<host>-<pid>.jsonl``: the model inputs of each
  recommendation request (histories, no user key), for the training/serving skew check
  (``rtrec skew``). A sample, not a record: written without fsync.

A batch is written with one ``write``, then ``flush`` and ``os.fsync`` before the call returns
(and the folder is synced when a file is created), so an acknowledged batch survives a crash. A
write that fails half-way is cut back to the file's previous length: no torn line, no half
batch. Written by hand: it is an append and an fsync; a logging library would add buffering.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rtrec.tombstones import tombstone_line

EVENTS_DIR, ITEMS_DIR, REQUESTS_DIR = "events", "items", "requests"
TOMBSTONES_FILE = "tombstones.jsonl"


class EventLogError(OSError):
    """The log could not be written; nothing of the batch was kept."""


def span_of(at: float) -> str:
    """The span (folder) of a write at Unix time ``at``: its UTC day."""
    return "span=" + time.strftime("%Y-%m-%d", time.gmtime(at))


class EventLog:
    """Append-only JSONL files under ``root``; safe to call from many threads."""

    def __init__(self, root: str | os.PathLike[str], writer: str | None = None) -> None:
        """``writer`` names this process's files (default ``<host>-<pid>``): replicas writing
        to one shared folder never append to the same file."""
        self.root = Path(root)
        self.writer = writer or f"{socket.gethostname()}-{os.getpid()}"
        self._lock = threading.Lock()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EventLogError(
                f"event log folder {self.root} cannot be created ({error}); give "
                "--event-log a writable folder"
            ) from error

    @property
    def tombstones_path(self) -> Path:
        return self.root / TOMBSTONES_FILE

    def path(self, kind: str, at: float) -> Path:
        return self.root / kind / span_of(at) / f"{kind}-{self.writer}.jsonl"

    def append_events(self, rows: Sequence[dict[str, Any]], at: float | None = None) -> Path:
        """Append event rows (contract columns) durably; returns the file written."""
        return self._append(self.path(EVENTS_DIR, time.time() if at is None else at), _lines(rows))

    def append_items(self, rows: Sequence[dict[str, Any]], at: float | None = None) -> Path:
        return self._append(self.path(ITEMS_DIR, time.time() if at is None else at), _lines(rows))

    def append_tombstone(self, user_key: str, at: float) -> Path:
        return self._append(self.tombstones_path, tombstone_line(user_key, at))

    def append_request(self, row: dict[str, Any], at: float) -> Path:
        """Append one request's model inputs (buffered: losing the tail to a crash is fine)."""
        return self._append(self.path(REQUESTS_DIR, at), _lines([row]), durable=False)

    def _append(self, path: Path, data: bytes, durable: bool = True) -> Path:
        with self._lock:
            try:
                created = not path.exists()
                if created:
                    path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "ab") as handle:
                    start = handle.tell()
                    try:
                        handle.write(data)
                        handle.flush()
                        if durable:
                            os.fsync(handle.fileno())
                    except OSError:
                        handle.truncate(start)
                        raise
                if created and durable:
                    _sync_dir(path.parent)
            except OSError as error:
                raise EventLogError(
                    f"could not append to the event log {path}: {error}; nothing of this "
                    "request was kept: free disk space or fix permissions, then retry"
                ) from error
        return path


def _lines(rows: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def _sync_dir(folder: Path) -> None:
    """fsync a folder so a new file's entry survives a crash (POSIX)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
