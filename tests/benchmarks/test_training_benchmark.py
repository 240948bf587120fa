"""The training-throughput benchmark runs every content_tuning mode and writes its table."""

from __future__ import annotations

import json

from benchmarks import training


def test_every_mode_is_measured_side_by_side(tmp_path):
    out = tmp_path / "training.json"
    training.main(
        ["--size", "tiny", "--steps", "2", "--batch-size", "32", "--encoder", "tiny-bert",
         "--out", str(out)]
    )  # fmt: skip
    rows = json.loads(out.read_text())
    assert [r["content_tuning"] for r in rows] == list(training.MODES)
    assert all(r["examples_per_second"] > 0 for r in rows)
    params = {r["content_tuning"]: r["trainable_text_parameters"] for r in rows}
    assert params["frozen"] < params["adapter"] < params["top_layers"]
