"""The event log: spans by UTC day, one file per process, and no torn batch on a failed write."""

from __future__ import annotations

import json
import os

import pytest

from serving.gateway.event_log import EventLog, EventLogError, span_of


def test_batches_land_in_the_span_of_their_day_one_line_per_row(tmp_path) -> None:
    log = EventLog(tmp_path, writer="host-1")
    path = log.append_events([{"user_id": "u", "item_id": "é"}, {"user_id": "v"}], at=86_400.5)
    assert path == tmp_path / "events" / "span=1970-01-02" / "events-host-1.jsonl"
    log.append_events([{"user_id": "w"}], at=86_401.0)
    assert [json.loads(x)["user_id"] for x in path.read_text("utf-8").splitlines()] == [
        "u", "v", "w"
    ]  # fmt: skip
    assert span_of(0.0) == "span=1970-01-01"
    assert log.append_items([{"item_id": "i"}], at=0.0).parts[-3:] == (
        "items", "span=1970-01-01", "items-host-1.jsonl"
    )  # fmt: skip


def test_a_write_that_fails_is_cut_back_and_reported(tmp_path, monkeypatch) -> None:
    log = EventLog(tmp_path, writer="h")
    path = log.append_events([{"user_id": "kept"}], at=0.0)
    size = path.stat().st_size

    def broken(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(EventLogError, match="nothing of this request was kept"):
        log.append_events([{"user_id": "lost"}] * 3, at=0.0)
    assert path.stat().st_size == size
    with pytest.raises(EventLogError, match="cannot be created"):
        EventLog(path / "inside-a-file")
