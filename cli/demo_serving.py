"""The serving half of `rtrec demo`: the pushed model behind `rtrec serve-model`, then the gateway.

After the pipeline pushes a blessed model, the demo does what a user would do next, as separate
processes talking HTTP: it starts `rtrec serve-model` on the push directory (TF Serving's REST
API), asks it for one ``recommend`` through ``serving.client.ModelClient`` (the request the
README's curl sends), then starts `rtrec gateway` against it and tells one shopper's story
(``serving.gateway.demo``): a cold start, recommendations that follow a click at once, with
reasons, and a new item recommendable without retraining. Both servers stop when the story
ends; their logs stay under ``<out>/serving``.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rtrec import contract as c
from serving.process import START_TIMEOUT_S, ServerProcess, free_port

MODEL_NAME = "rtrec"


def read_catalog(path: str) -> list[dict[str, str]]:
    """The item rows of a catalog file (CSV or JSONL, the formats `rtrec generate` writes)."""
    with open(path, encoding="utf-8", newline="") as f:
        if path.endswith((".jsonl", ".json")):
            return [json.loads(line) for line in f if line.strip()]
        return list(csv.DictReader(f))


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def recommend_once(model_url: str, history: Sequence[str], console: Console) -> list[str]:
    """One ``recommend`` for a history of views, as the README's curl sends it."""
    from serving.client import ModelClient

    now = int(time.time())
    inputs: dict[str, Any] = {
        "history_item_ids": [list(history)],
        "history_event_types": [[c.VIEW] * len(history)],
        "history_timestamps": [[now - 60 * (len(history) - n) for n in range(len(history))]],
        "user_key": [""],
        "exclude_item_ids": [[""]],
        "k": 5,
        "now": [0],
    }
    with ModelClient(model_url, MODEL_NAME) as client:
        version = client.wait_until_available(timeout=START_TIMEOUT_S)
        started = time.perf_counter()
        out = client.predict(inputs=inputs, signature_name="recommend")
        took_ms = 1000 * (time.perf_counter() - started)
    items = [i.decode() if isinstance(i, bytes) else i for i in out["item_ids"][0]]
    console.print(f"POST {model_url}/v1/models/{MODEL_NAME}:predict (recommend, version "
                  f"{version}, {took_ms:.0f} ms) after viewing {', '.join(history)}:",
                  soft_wrap=True)  # fmt: skip
    table = Table()
    table.add_column("#", justify="right")
    table.add_column("item")
    table.add_column("score", justify="right")
    for rank, (item, score) in enumerate(zip(items, out["scores"][0], strict=True), 1):
        table.add_row(str(rank), item, f"{score:.3f}")
    console.print(table)
    return items


def serve_and_tell(
    push_directory: str,
    items_path: str,
    work_dir: str,
    console: Console,
    overrides: Sequence[str] = (),
) -> dict[str, Any]:
    """Serve the pushed model, query it, start the gateway on it and tell the shopper's story."""
    from serving.gateway.demo import run_demo_story

    work = Path(work_dir)
    catalog = read_catalog(items_path)
    model_port, gateway_port = free_port(), free_port()
    model_url = f"http://127.0.0.1:{model_port}"
    serve = _cli("serve-model", "--rest_api_port", str(model_port), "--model_name", MODEL_NAME,
                 "--model_base_path", os.path.abspath(push_directory))  # fmt: skip
    console.rule("Serving: rtrec serve-model (TF Serving's REST API) on the pushed model")
    with ServerProcess(serve, work / "serve-model.log") as server:
        server.wait_healthy(f"{model_url}/v1/models/{MODEL_NAME}")
        recommended = recommend_once(model_url, [r[c.ITEM_ID] for r in catalog[:2]], console)
        token = secrets.token_hex(16)
        gateway = _cli("gateway", "--model-url", model_url, "--model-name", MODEL_NAME,
                       "--store", f"sqlite:///{os.path.abspath(work / 'gateway.db')}",
                       "--event-log", os.path.abspath(work / "events"),
                       "--port", str(gateway_port),
                       *[arg for o in overrides for arg in ("--set", o)])  # fmt: skip
        console.rule("Real-time gateway: rtrec gateway, one shopper's story over its HTTP API")
        with ServerProcess(gateway, work / "gateway.log", {"RTREC_GATEWAY_TOKEN": token}) as gw:
            url = f"http://127.0.0.1:{gateway_port}"
            gw.wait_healthy(url + "/readyz")
            story = run_demo_story(url, token, console, catalog)
    console.print(f"Server logs and the gateway's event log: {work}", soft_wrap=True)
    return {"recommended": recommended, **story}
