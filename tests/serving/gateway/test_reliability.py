"""The gateway when what it depends on fails: the model server killed and restarted (a real
``rtrec serve-model`` subprocess), and Redis killed -9 between an acknowledged POST and a GET."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serving.client import ModelClient
from serving.process import free_port as _free_port
from tests.serving.gateway.test_events import ev, logged, stored
from tests.serving.gateway.test_recommendations import recommend

REPO = Path(__file__).resolve().parents[3]


class ServeModel:
    """``rtrec serve-model`` as a separate process, killable and restartable on one port."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log, self.port = config, log, _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "cli.main", "serve-model", "--rest_api_host",
                   "127.0.0.1", "--rest_api_port", str(self.port), "--model_config_file",
                   str(self.config)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log, env=env)
        with ModelClient(self.url, "rtrec", timeout=5.0, retries=0) as client:
            for version in (1, 2):
                try:
                    client.wait_until_available(version, timeout=240.0, poll=0.5)
                except TimeoutError:
                    self.kill()
                    raise AssertionError(self.log.read_text()[-3000:]) from None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def serve_model(model_config, tmp_path):
    server = ServeModel(model_config, tmp_path / "serve-model.log")
    server.start()
    yield server
    server.kill()


@pytest.mark.slow
def test_model_server_down_answers_503_keeps_events_and_recovers(
    serve_model, make_gateway, tmp_path
) -> None:
    client, gw = make_gateway(f"sqlite:///{tmp_path / 'gw.db'}", model_url=serve_model.url,
                              model_timeout_s=2.0)  # fmt: skip
    now = time.time()
    assert client.post("/v1/events", json={"events": [ev("kim", "lamp-1", now - 60)]}).json()[
        "catalog_checked"
    ]
    assert recommend(client, "kim")["cold_start"] is False
    assert client.get("/readyz").json()["status"] == "ready"

    serve_model.kill()
    down = client.get("/v1/users/kim/recommendations")
    assert down.status_code == 503
    assert down.json()["detail"].startswith(f"model server unreachable at {serve_model.url}")
    assert client.get("/v1/search", params={"q": "lamp"}).status_code == 503
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "unreachable" in ready.json()["model_server"]
    while_down = [ev("kim", "lamp-1", now - 30, "click"), ev("kim", "tent-4", now - 20)]
    answer = client.post("/v1/events", json={"events": while_down}).json()
    assert answer["accepted"] == 2  # lamp-1's membership was cached; tent-4 is checked later
    assert answer["catalog_checked"] is False
    assert [r["item_id"] for r in logged(tmp_path)] == ["lamp-1", "lamp-1", "tent-4"]

    serve_model.start()  # the same port
    back = recommend(client, "kim", k=5)
    assert back["cold_start"] is False and "tent-4" not in [i["item_id"] for i in back["items"]]
    assert [i for i, _, _ in stored(gw, "kim")] == ["lamp-1", "lamp-1", "tent-4"]
    assert client.get("/readyz").status_code == 200


def test_an_acknowledged_event_survives_redis_kill_9(make_gateway, redis_server, tmp_path) -> None:
    client, gw = make_gateway(redis_server.url)
    now = time.time()
    batch = [ev("lou", f"novel-{j}", now - 50 + j) for j in range(3)]
    assert client.post("/v1/events", json={"events": batch}).json()["accepted"] == 3
    redis_server.kill()  # SIGKILL right after the acknowledgement
    down = client.get("/v1/users/lou/recommendations")
    assert down.status_code == 503 and "online store unavailable" in down.json()["detail"]
    refused = client.post("/v1/events", json={"events": [ev("lou", "lamp-1", now)]})
    assert refused.status_code == 503 and len(logged(tmp_path)) == 3  # refused: not logged
    redis_server.start(keep_port=True)
    assert [i for i, _, _ in stored(gw, "lou")] == ["novel-0", "novel-1", "novel-2"]
    back = recommend(client, "lou", k=5)
    assert back["cold_start"] is False
    assert {i["item_id"] for i in back["items"]}.isdisjoint({"novel-0", "novel-1", "novel-2"})
