"""DELETE /v1/users/{id}: the history leaves the store, a tombstone is logged, nothing returns."""

from __future__ import annotations

import json
import time

from rtrec.timeline import pseudonymize
from rtrec.tombstones import read_tombstones
from tests.serving.gateway.test_events import KEY, ev, stored
from tests.serving.gateway.test_recommendations import recommend


def test_forgetting_a_user_deletes_the_history_and_logs_a_tombstone(
    make_gateway, store_url, tmp_path
) -> None:
    client, gw = make_gateway(store_url)
    now = time.time()
    client.post("/v1/events", json={"events": [ev("zoe", "lamp-1", now - 9),
                                               ev("max", "lamp-2", now - 8)]})  # fmt: skip
    assert recommend(client, "zoe")["cold_start"] is False
    answer = client.delete("/v1/users/zoe")
    assert answer.status_code == 200
    assert answer.json() == {"user_id": "zoe", "forgotten": True, "had_history": True}
    assert stored(gw, "zoe") == [] and stored(gw, "max") != []
    assert recommend(client, "zoe")["cold_start"] is True
    later = client.post("/v1/events", json={"events": [ev("zoe", "lamp-3", now)]}).json()
    assert later["accepted"] == 0 and later["rejected"][0]["reason"] == "forgotten_user"
    assert stored(gw, "zoe") == []
    stones = tmp_path / "log" / "tombstones.jsonl"
    [line] = stones.read_text().splitlines()
    assert json.loads(line)["user_key"] == pseudonymize("zoe", KEY)
    assert "zoe" not in stones.read_text()  # only the pseudonym
    assert read_tombstones(str(stones)) == {pseudonymize("zoe", KEY)}
    again = client.delete("/v1/users/zoe").json()
    assert again["had_history"] is False
