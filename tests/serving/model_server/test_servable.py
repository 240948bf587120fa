"""Loading a SavedModel version and replaying its warm-up records before it serves."""

from __future__ import annotations

import shutil

import httpx
import numpy as np
import pytest

from serving.model_server.errors import ServingError
from serving.model_server.servable import Servable
from tests.serving.toy_models import add_warmup
from trainer.warmup import write_warmup_requests


def calls(server, version: int) -> int:
    with server.core.manager("toy").acquire(version=version) as servable:
        return int(servable.module.calls.numpy())


@pytest.mark.parametrize(
    "iterations, enabled, expected", [(1, True, 3), (2, True, 6), (1, False, 0)]
)
def test_warmup_records_are_replayed_on_load(
    tmp_path, toy_versions, serve, iterations, enabled, expected
):
    shutil.copytree(toy_versions[1], tmp_path / "1")
    add_warmup(str(tmp_path / "1"), records=3)
    server = serve(
        model_name="toy",
        model_base_path=str(tmp_path),
        enable_model_warmup=enabled,
        num_request_iterations_for_warmup=iterations,
    )
    assert calls(server, 1) == expected  # before any request was sent
    metrics = httpx.get(server.url + "/monitoring/prometheus/metrics").text
    if enabled:
        assert 'rtrec_serving_warmup_records_total{model="toy",version="1"} 3.0' in metrics


def test_warmup_runs_before_the_version_is_available(tmp_path, toy_versions, base_path):
    from serving.model_server.core import ServerCore
    from serving.tfserving.configs import single_model_config

    add_warmup(str(base_path / "2"), records=2)
    seen = {}
    holder: list[ServerCore] = []

    def on_state(model, state):
        if state.state == "AVAILABLE":
            with holder[0].manager(model).acquire(version=state.version) as servable:
                seen[state.version] = int(servable.module.calls.numpy())

    core = ServerCore(single_model_config("toy", str(base_path)), on_state=on_state)
    holder.append(core)
    core.poll()
    core.close()
    assert seen == {2: 2}


def test_a_failing_warmup_fails_the_load_and_the_old_version_serves(tmp_path, toy_versions, serve):
    shutil.copytree(toy_versions[1], tmp_path / "1")
    server = serve(model_name="toy", model_base_path=str(tmp_path), file_system_poll_wait_seconds=0)
    staging = tmp_path / "staging"
    shutil.copytree(toy_versions[2], staging)
    bad = {"nope": np.array([[1.0, 2.0]], dtype=np.float32)}
    write_warmup_requests(str(staging), "toy", [("serving_default", bad)])
    staging.rename(tmp_path / "2")
    server.core.poll()
    rows = httpx.get(server.url + "/v1/models/toy").json()["model_version_status"]
    assert [(r["version"], r["state"]) for r in rows] == [("2", "END"), ("1", "AVAILABLE")]
    assert rows[0]["status"]["error_code"] == "INVALID_ARGUMENT"
    assert "unexpected ['nope']" in rows[0]["status"]["error_message"]
    answer = httpx.post(server.url + "/v1/models/toy:predict", json={"instances": [[0.0, 0.0]]})
    assert answer.json() == {"predictions": [[1.0, 1.0]]}  # version 1: x / 2 + 1


def test_servable_reads_signature_defs_from_the_saved_model(toy_versions):
    servable = Servable("toy", 1, str(toy_versions[1]))
    assert {"serving_default", "multi", "bytes", "tokens"} <= set(servable.signature_defs)
    specs = servable.signature_inputs("multi")
    assert {n: (s.dtype, s.shape) for n, s in specs.items()} == {
        "ids": ("string", (None,)),
        "counts": ("int64", (None,)),
        "k": ("int32", ()),
    }
    with pytest.raises(ServingError, match="must be int64, got float64"):
        servable.run("multi", {"ids": np.array([b"a"], dtype=object), "counts": np.ones(1),
                               "k": np.int32(1)})  # fmt: skip
    servable.close()
