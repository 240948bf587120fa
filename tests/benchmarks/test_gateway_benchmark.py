"""The gateway benchmark runs every measurement end to end at tiny sizes, with zero errors."""

from __future__ import annotations

import json

import pytest

from benchmarks import gateway


@pytest.mark.slow
def test_every_measurement_runs_and_nothing_fails(exported, tmp_path):
    _, _, version = exported
    out = tmp_path / "gateway.json"
    result = gateway.main(
        ["--saved-model", version, "--history-length", "5", "--rate", "20", "--duration", "2",
         "--capacity-s", "1", "--users", "40", "--small-batches", "5", "--big-batches", "2",
         "--freshness", "5", "--out", str(out)]
    )  # fmt: skip
    assert json.loads(out.read_text()) == result
    [latency] = result["recommend"]
    assert [row["clients"] for row in result["capacity"]] == [1, 4]
    assert all(row["errors"] == 0 and row["rps"] > 0 for row in result["capacity"])
    assert latency["requests"] == 40 and latency["errors"] == 0 and latency["n"] == 40
    assert latency["p50_ms"] > 0 and latency["gateway_overhead"]["n"] == 40
    cpu = latency["cpu_ms_per_request"]
    assert set(cpu) == {"gateway", "model_server", "load_generator"}
    assert all(ms > 0 for ms in cpu.values())
    assert result["tensorflow_threads"] == {"intra_op": 1, "inter_op": 2}
    assert [row["batch"] for row in result["ingestion"]] == [1, 100]
    assert all(row["errors"] == 0 and row["events_per_s"] > 0 for row in result["ingestion"])
    assert result["freshness"]["errors"] == 0 and result["freshness"]["n"] == 5
    assert result["catalog_items"] == 40
