"""End-to-end test of benchmarks/quality.py on a tiny events/items pair."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from rtrec.evaluation.baselines import Popularity

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "quality.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("quality_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_tables(folder: Path) -> tuple[str, str]:
    rows = []
    for user in range(8):
        for step in range(4):
            item = (user + step) % 6
            rows.append((f"u{user}", f"i{item}", "click", str(100 * step + user), "", "", ""))
    columns = ["user_id", "item_id", "event_type", "timestamp", "value", "query", "session_id"]
    events = pd.DataFrame(rows, columns=columns)
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(7)],
            "title": [f"item {i}" for i in range(7)],
            "description": ["good", "fine", "good", "fine", "good", "fine", "new"],
            "category": ["a|b", "b", "a", "c", "a", "b", "c"],
            "created_at": "",
        }
    )
    events.to_csv(folder / "events.csv", index=False)
    items.to_json(folder / "items.jsonl", orient="records", lines=True)
    return str(folder / "events.csv"), str(folder / "items.jsonl")


def test_run_quality_writes_results_for_every_model_and_protocol(tmp_path: Path) -> None:
    quality = _load_script()
    events, items = _write_tables(tmp_path)
    out = tmp_path / "out" / "results.json"
    console = Console(file=None, width=160, quiet=True)
    payload = quality.run_quality(
        events,
        items,
        str(out),
        extra_models={"pop2": lambda train: Popularity(name="pop2")},
        ks=(2, 5),
        console=console,
    )
    written = json.loads(out.read_text())
    assert written == payload["results"]
    assert set(written) == {"leave_last_out", "temporal"}
    models = set(written["leave_last_out"])
    assert models == {"popularity", "itemknn", "itemknn-last5", "ease", "content-tfidf", "pop2"}
    meta = json.loads(Path(quality.meta_path(str(out))).read_text())
    assert meta["dataset"]["items"] == 7
    assert "HR@5" in written["temporal"]["ease"]["all"]


def test_run_quality_refuses_unknown_models(tmp_path: Path) -> None:
    quality = _load_script()
    events, items = _write_tables(tmp_path)
    with pytest.raises(ValueError, match="unknown model"):
        quality.run_quality(events, items, str(tmp_path / "r.json"), models=["svd"])
