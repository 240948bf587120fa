"""Version policy, hot add and unload, broken versions, and requests held across a swap."""

from __future__ import annotations

import shutil
import threading
import time

import httpx
import numpy as np
import pytest
from tensorflow_serving.config import file_system_storage_path_source_pb2 as fs_pb2
from tensorflow_serving.config import model_server_config_pb2

from serving.model_server.errors import ServingError
from serving.model_server.models import END, ModelManager, aspired_versions
from serving.model_server.servable import Servable
from tests.serving.conftest import write_config

MULTI = {"ids": np.array([b"a"], dtype=object), "counts": np.array([1]), "k": np.int32(1)}


def policy(text: str) -> fs_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy:
    from google.protobuf import text_format

    message = fs_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy()
    return text_format.Parse(text, message)


@pytest.mark.parametrize(
    "text, aspired",
    [
        ("", {7}),  # TF Serving's default: the latest version
        ("latest { num_versions: 2 }", {3, 7}),
        ("all {}", {1, 3, 7}),
        ("specific { versions: 1 versions: 5 }", {1}),
    ],
)
def test_version_policies(text, aspired):
    assert aspired_versions(policy(text), {1, 3, 7}) == aspired


def manager_for(base, text: str = "", labels: dict | None = None) -> ModelManager:
    config = model_server_config_pb2.ModelConfig(name="toy", base_path=str(base))
    config.model_version_policy.CopyFrom(policy(text))
    for label, version in (labels or {}).items():
        config.version_labels[label] = version
    return ModelManager(config, Servable)


def answering_version(manager: ModelManager, **spec) -> int:
    with manager.acquire(**spec) as servable:
        return int(servable.run("multi", MULTI)["version"][0])


def states(manager: ModelManager) -> list[tuple[int, str, str]]:
    return [(s.version, s.state, s.error_code) for s in manager.status()]


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_new_version_is_hot_added_and_the_old_one_unloaded(tmp_path, toy_versions):
    shutil.copytree(toy_versions[1], tmp_path / "1")
    manager = manager_for(tmp_path)
    manager.poll()
    assert answering_version(manager) == 1
    shutil.copytree(toy_versions[2], tmp_path / "2")
    (tmp_path / "not-a-version").mkdir()  # ignored, as TF Serving ignores non-numeric names
    manager.poll()
    assert answering_version(manager) == 2
    wait_for(lambda: states(manager) == [(2, "AVAILABLE", "OK"), (1, END, "OK")])
    with pytest.raises(ServingError, match=r"Servable not found for request: Specific\(toy, 1\)"):
        answering_version(manager, version=1)


def test_latest_two_keeps_both_and_labels_pick_one(tmp_path, toy_versions):
    for version, source in toy_versions.items():
        shutil.copytree(source, tmp_path / str(version))
    manager = manager_for(tmp_path, "latest { num_versions: 2 }", {"stable": 1, "canary": 2})
    manager.poll()
    assert manager.available_versions() == [1, 2]
    assert answering_version(manager, label="stable") == 1
    assert answering_version(manager, label="canary") == 2
    with pytest.raises(ServingError, match="Unrecognized servable version label: nope") as raised:
        answering_version(manager, label="nope")
    assert raised.value.http_status == 400


def test_a_broken_version_is_reported_and_retried_when_its_files_change(tmp_path, toy_versions):
    shutil.copytree(toy_versions[1], tmp_path / "1")
    manager = manager_for(tmp_path)
    manager.poll()
    broken = tmp_path / "2"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"half a file")
    manager.poll()
    (two, one) = manager.status()
    assert (two.version, two.state, two.error_code) == (2, END, "DATA_LOSS")
    assert "Failed to load version 2 of model toy" in two.error_message
    assert (one.version, one.state) == (1, "AVAILABLE")
    assert answering_version(manager) == 1  # the previous version keeps serving
    manager.poll()  # unchanged files: not retried
    assert manager.status()[0].error_code == "DATA_LOSS"
    shutil.rmtree(broken)
    shutil.copytree(toy_versions[2], broken)  # the copy finishes
    manager.poll()
    assert answering_version(manager) == 2
    assert manager.status()[0].state == "AVAILABLE"


def test_a_half_copied_folder_is_not_found(tmp_path, toy_versions):
    shutil.copytree(toy_versions[1] / "variables", tmp_path / "3" / "variables")
    manager = manager_for(tmp_path)
    manager.poll()
    [state] = manager.status()
    assert (state.state, state.error_code) == (END, "NOT_FOUND")
    with pytest.raises(ServingError, match=r"Latest\(toy\)") as raised:
        answering_version(manager)
    assert raised.value.http_status == 404


def test_a_request_that_started_on_a_version_finishes_on_it(tmp_path, toy_versions):
    shutil.copytree(toy_versions[1], tmp_path / "1")
    manager = manager_for(tmp_path)
    manager.poll()
    with manager.acquire() as held:
        shutil.copytree(toy_versions[2], tmp_path / "2")
        manager.poll()
        assert [(s.version, s.state) for s in manager.status()] == [
            (2, "AVAILABLE"),
            (1, "UNLOADING"),
        ]
        assert answering_version(manager) == 2  # new requests go to the new version...
        assert int(held.run("multi", MULTI)["version"][0]) == 1  # ...this one stays on 1
    wait_for(lambda: manager.status()[1].state == END)


@pytest.mark.slow
def test_hot_swap_under_concurrent_load_drops_no_request(tmp_path, toy_versions, serve):
    base = tmp_path / "toy"
    shutil.copytree(toy_versions[1], base / "1")
    config = write_config(tmp_path / "models.config", base, policy="latest { num_versions: 1 }")
    server = serve(model_config_file=str(config), file_system_poll_wait_seconds=1)
    body = '{"signature_name": "multi", "inputs": {"ids": ["a"], "counts": [1], "k": 1}}'
    failures, seen, stop = [], [], threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while not stop.is_set():
                response = client.post("/v1/models/toy:predict", content=body)
                if response.status_code != 200:
                    failures.append(response.text)
                else:
                    seen.append(response.json()["outputs"]["version"][0])

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    shutil.copytree(toy_versions[2], base / "2")
    wait_for(lambda: seen and seen[-1] == 2)
    status = httpx.get(server.url + "/v1/models/toy", timeout=10).json()
    wait_for(
        lambda: [r["state"] for r in httpx.get(server.url + "/v1/models/toy").json()[
            "model_version_status"]] == ["AVAILABLE", "END"]
    )  # fmt: skip
    stop.set()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    assert set(seen) == {1, 2} and seen[-1] == 2
    assert status["model_version_status"][0]["version"] == "2"


def test_server_starts_even_if_its_only_version_is_broken(tmp_path, serve):
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "saved_model.pb").write_bytes(b"\x00garbage")
    server = serve(model_name="toy", model_base_path=str(tmp_path))
    status = httpx.get(server.url + "/v1/models/toy", timeout=10).json()
    [row] = status["model_version_status"]
    assert (row["state"], row["status"]["error_code"]) == ("END", "DATA_LOSS")
    response = httpx.post(server.url + "/v1/models/toy:predict", content='{"instances": [1]}')
    assert response.status_code == 404
