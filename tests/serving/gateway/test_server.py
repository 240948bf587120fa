"""`rtrec gateway` as a user starts it: refuses open writes without a token, serves under uvicorn,
and its demo story runs against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from tests.serving.gateway.conftest import ARMS, TOKEN
from tests.serving.gateway.test_reliability import REPO, _free_port
from tests.tiny_model import BRANDS, TYPES, item_id


def _arms() -> str:
    return f"gateway.arms={json.dumps(ARMS)}"  # JSON is YAML


def gateway_command(model_url: str, root: Path, port: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "cli.main", "gateway", "--model-url", model_url,
        "--store", f"sqlite:///{root / 'gw.db'}", "--event-log", str(root / "log"),
        "--port", str(port), "--set", "trainer.hparams.history_length=5", "--set", _arms(),
        *extra,
    ]  # fmt: skip


class GatewayProcess:
    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            if self.process.poll() is not None:
                break
        self.stop()
        raise AssertionError(log.read_text()[-3000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def gateway_process(model_server, tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "RTREC_GATEWAY_TOKEN": TOKEN}
    process = GatewayProcess(gateway_command(model_server.url, tmp_path, port), env, port,
                             tmp_path / "gateway.log")  # fmt: skip
    yield process
    process.stop()


def test_the_gateway_refuses_to_start_without_a_token(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RTREC_GATEWAY_TOKEN"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(gateway_command("http://127.0.0.1:9", tmp_path, _free_port()), cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "RTREC_GATEWAY_TOKEN is not set" in done.stderr and "--insecure" in done.stderr


def test_insecure_start_says_so(model_server, tmp_path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "RTREC_GATEWAY_TOKEN"}
    env["PYTHONPATH"] = str(REPO)
    command = gateway_command(model_server.url, tmp_path, port, "--insecure")
    process = GatewayProcess(command, env, port, tmp_path / "gateway.log")
    try:
        body = {"events": [{"user_id": "u", "item_id": "lamp-1", "event_type": "view",
                            "timestamp": time.time()}]}  # fmt: skip
        assert httpx.post(process.url + "/v1/events", json=body).json()["accepted"] == 1
    finally:
        process.stop()
    assert "WITHOUT a token" in (tmp_path / "gateway.log").read_text()


def test_the_demo_story_runs_against_a_served_gateway(gateway_process) -> None:
    from serving.gateway.demo import run_demo_story

    console = Console(record=True, width=120)
    catalog = [
        {"item_id": item_id(t, j), "title": f"{BRANDS[j % len(BRANDS)]} {TYPES[t]} model {j}",
         "category": f"{['Home', 'Home', 'Leisure', 'Leisure'][t]}|{TYPES[t]}"}
        for t in range(4) for j in range(10)
    ]  # fmt: skip
    story = run_demo_story(gateway_process.url, TOKEN, console, catalog, k=10)  # 20 of 40 last
    text = console.export_text()
    assert story["before"] != story["after"] and story["attributed"] == 1
    kind = story["clicked"][0].split("-")[0]  # the first shown item of another category
    assert kind != "lamp" and all(i.startswith(kind) for i in story["clicked"])
    assert sum(i.startswith(kind) for i in story["after"]) >= sum(
        i.startswith(kind) for i in story["before"]
    )
    assert story["new_item"] in [i["item_id"] for i in story["with_new_item"]]
    assert "because you" in text and "new item" in text
    assert httpx.get(gateway_process.url + "/readyz").json()["status"] == "ready"


def test_ab_report_reads_the_gateways_impressions(make_gateway, tmp_path) -> None:
    from click.testing import CliRunner

    from cli.main import main

    url = f"sqlite:///{tmp_path / 'ab.db'}"
    client, _ = make_gateway(url)
    for n in range(6):
        shown = client.get(f"/v1/users/ab{n}/recommendations", params={"k": 2}).json()
        if n % 2:
            click = {"user_id": f"ab{n}", "item_id": shown["items"][0]["item_id"],
                     "event_type": "click", "timestamp": time.time(),
                     "request_id": shown["request_id"]}  # fmt: skip
            assert client.post("/v1/events", json={"events": [click]}).json()["attributed"] == 1
    out = tmp_path / "ab.json"
    done = CliRunner().invoke(main, ["ab-report", "--store", url, "--out", str(out)])
    assert done.exit_code == 0, done.output
    report = json.loads(out.read_text())
    assert report["total_impressions"] == 6
    assert sum(arm["clicks"] for arm in report["arms"]) == 3
    assert "CTR" in done.output


def test_serve_freezes_the_opened_parts_out_of_the_collector_before_serving(
    model_server, tmp_path, monkeypatch
) -> None:
    import gc

    import uvicorn

    from serving.gateway import server
    from tests.serving.gateway.conftest import gateway_config

    cfg = gateway_config(model_server.url, tmp_path, f"sqlite:///{tmp_path / 'g.db'}")
    frozen_before, seen = gc.get_freeze_count(), {}

    def run(app, **options) -> None:  # instead of serving: what serve() set up
        seen.update(options, app=app, frozen=gc.get_freeze_count())

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setenv("RTREC_GATEWAY_TOKEN", TOKEN)
    server.serve(cfg)
    assert seen["frozen"] > frozen_before
    assert (seen["port"], seen["access_log"]) == (cfg.gateway.port, False)
