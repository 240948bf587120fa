"""POST /v1/events: ingestion's rules per row, the durable log, the store, and refusals that
write nothing (on both store backends)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from rtrec.timeline import pseudonymize
from serving.gateway.events import would_be_bot
from tests.serving.gateway.conftest import TOKEN

KEY = os.environ.get("RTREC_PSEUDONYM_KEY", "test-key").encode()


def ev(user: str, item: str, ts: float, event_type: str = "view", **extra) -> dict:
    return {"user_id": user, "item_id": item, "event_type": event_type, "timestamp": ts, **extra}


def logged(root: Path) -> list[dict]:
    rows = []
    for path in sorted((root / "log" / "events").rglob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines()]
    return rows


def stored(gw, user: str) -> list[tuple[str, str, float]]:
    key = pseudonymize(user, KEY)
    return [(e.item_id, e.event_type, e.timestamp) for e in gw.store.events(key)]


def test_accepted_rows_go_to_the_log_in_the_contract_then_the_store(
    make_gateway, store_url, tmp_path, monkeypatch
) -> None:
    client, gw = make_gateway(store_url)
    syncs = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: syncs.append(fd) or real_fsync(fd))
    now = time.time()
    batch = [
        ev("u1", "lamp-1", now - 50, session_id="s1"),
        ev("u1", "lamp-1", "2020-01-01T00:00:00Z", "CLICK"),  # ISO time, type in capitals
        ev("u2", "", now - 40, "search", query="  a lamp  "),
        ev("u1", "kettle-2", now + 60, "purchase", value=19),  # a fast clock: clamped to now
    ]
    answer = client.post("/v1/events", json={"events": batch})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 4, "rejected": [], "attributed": 0,
                             "catalog_checked": True}  # fmt: skip
    rows = logged(tmp_path)
    assert [r["user_id"] for r in rows] == ["u1", "u1", "u2", "u1"]  # raw ids, input order
    assert rows[1]["event_type"] == "click" and rows[1]["timestamp"] == 1577836800.0
    assert rows[2]["query"] == "a lamp" and rows[2]["item_id"] == ""
    assert now <= rows[3]["timestamp"] <= time.time() and rows[3]["value"] == 19.0
    assert set(rows[0]) == {"user_id", "item_id", "event_type", "timestamp", "value", "query",
                            "session_id"}  # fmt: skip
    assert len(syncs) >= 1  # the batch was synced (plus its new folders) before the answer
    history = stored(gw, "u1")
    assert [(i, t) for i, t, _ in history] == [
        ("lamp-1", "click"), ("lamp-1", "view"), ("kettle-2", "purchase")
    ]  # fmt: skip
    assert history[2][2] == rows[3]["timestamp"]


def test_rows_are_judged_by_ingestions_rules_and_the_rest_applied(
    make_gateway, store_url, tmp_path
) -> None:
    client, gw = make_gateway(store_url)
    now = time.time()
    batch = [
        ev("u1", "lamp-1", now - 10),
        ev(" ", "lamp-1", now),  # 1 missing_user_id
        ev("u1", "", now),  # 2 missing_item_id
        ev("u1", "", now, "search"),  # 3 missing_query
        ev("u1", "lamp-2", "yesterday"),  # 4 bad_timestamp
        ev("u1", "lamp-2", now + 86_400),  # 5 future_timestamp
        ev("u1", "no-such-item", now),  # 6 unknown_item
        ev("u1", "lamp-1", now - 10),  # 7 duplicate of row 0
        ev("u1", "lamp-3", now - 5),
    ]
    answer = client.post("/v1/events", json={"events": batch}).json()
    assert answer["accepted"] == 2
    reasons = [(r["index"], r["reason"]) for r in answer["rejected"]]
    assert reasons == [(1, "missing_user_id"), (2, "missing_item_id"), (3, "missing_query"),
                       (4, "bad_timestamp"), (5, "future_timestamp"), (6, "unknown_item"),
                       (7, "duplicate")]  # fmt: skip
    assert all(r["detail"] for r in answer["rejected"])
    assert [r["item_id"] for r in logged(tmp_path)] == ["lamp-1", "lamp-3"]
    assert [i for i, _, _ in stored(gw, "u1")] == ["lamp-1", "lamp-3"]
    metrics = client.get("/metrics").text
    assert 'rtrec_gateway_events_total{outcome="accepted"} 2.0' in metrics
    assert 'rtrec_gateway_events_total{outcome="unknown_item"} 1.0' in metrics


def test_a_retried_batch_is_applied_once(api) -> None:
    batch = {"events": [ev("u9", f"tent-{j}", time.time() - 100 + j) for j in range(3)]}
    assert api.post("/v1/events", json=batch).json()["accepted"] == 3
    again = api.post("/v1/events", json=batch).json()
    assert again["accepted"] == 0 and {r["reason"] for r in again["rejected"]} == {"duplicate"}


def test_the_bot_rule_refuses_the_events_over_the_rate(api) -> None:
    start = time.time() - 3600
    flood = [ev("bot", "lamp-1", start + 0.1 * n, session_id=str(n)) for n in range(130)]
    answer = api.post("/v1/events", json={"events": flood}).json()
    assert answer["accepted"] == 120  # ingestion.bot_max_events_per_minute
    assert [r["reason"] for r in answer["rejected"]] == ["bot"] * 10
    later = api.post("/v1/events", json={"events": [ev("bot", "lamp-2", start + 61)]}).json()
    assert later["accepted"] == 1  # a minute later the user is under the rate again


def test_would_be_bot_checks_only_the_windows_around_the_new_event() -> None:
    times = [float(t) for t in range(10)]
    assert would_be_bot(times, 5.5, 10) and not would_be_bot(times, 5.5, 11)
    assert not would_be_bot(times, 100.0, 1) and would_be_bot(times, 59.0, 1)


BAD_BODIES = [
    ("malformed JSON", b'{"events": [', 422, "JSON decode error"),
    ("not a list", b'{"events": {"user_id": "u"}}', 422, "events"),
    ("empty batch", b'{"events": []}', 422, "at least 1"),
    ("wrong type", json.dumps({"events": [ev("u1", "lamp-1", True)]}).encode(), 422, "timestamp"),
    ("unknown type", json.dumps({"events": [ev("u1", "lamp-1", 1.0, "teleport")]}).encode(),
     422, "event_type"),
    ("unknown field", json.dumps({"events": [ev("u1", "lamp-1", 1.0, colour="red")]}).encode(),
     422, "colour"),
    ("too many", json.dumps({"events": [ev("u1", "lamp-1", 1.0 + n) for n in range(6)]}).encode(),
     422, "at most 5"),
    ("oversized", json.dumps({"events": [ev("u1", "lamp-1", 1.0, query="x" * 5000)]}).encode(),
     413, "exceeds the gateway's limit of 4000 bytes"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "body", "status", "message"), BAD_BODIES,
                         ids=[b[0] for b in BAD_BODIES])  # fmt: skip
def test_a_refused_batch_writes_nothing(
    make_gateway, store_url, tmp_path, what, body, status, message
) -> None:
    client, gw = make_gateway(store_url, max_batch_events=5, max_body_bytes=4000)
    good = ev("u1", "lamp-1", time.time())
    body = body.replace(b'"timestamp": 1.0}]', b'"timestamp": 1.0}, ' + json.dumps(good).encode()
                        + b"]")  # fmt: skip
    answer = client.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert message in answer.text
    assert logged(tmp_path) == [] and stored(gw, "u1") == []


def test_write_endpoints_need_the_token(make_gateway, store_url, tmp_path) -> None:
    client, gw = make_gateway(store_url)
    body = {"events": [ev("u1", "lamp-1", time.time())]}
    missing = client.post("/v1/events", json=body, headers={"Authorization": ""})
    assert missing.status_code == 401 and "missing bearer token" in missing.json()["detail"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/v1/events", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and "wrong bearer token" in wrong.json()["detail"]
    for method, path in (("POST", "/v1/items"), ("DELETE", "/v1/users/u1")):
        assert client.request(method, path, headers={"Authorization": ""}).status_code == 401
    assert logged(tmp_path) == [] and stored(gw, "u1") == []
    ok = client.post("/v1/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200


def test_insecure_mode_takes_writes_without_a_token(make_gateway, store_url) -> None:
    client, _ = make_gateway(store_url, token=None)
    body = {"events": [ev("u1", "lamp-1", time.time())]}
    assert client.post("/v1/events", json=body, headers={"Authorization": ""}).status_code == 200
