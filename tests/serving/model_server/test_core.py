"""ServerCore: reloading models.config moves labels and adds or drops models without a restart."""

from __future__ import annotations

import time

import httpx
import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving.model_server.core import ServerCore
from serving.model_server.errors import ServingError
from tests.serving.conftest import MODELS_CONFIG, write_config


def config(base, policy: str = "all {}") -> model_server_config_pb2.ModelServerConfig:
    text = MODELS_CONFIG.format(base=base, policy=policy)
    return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


def test_reload_moves_a_label_and_drops_a_model(base_path):
    core = ServerCore(config(base_path))
    core.poll()
    assert core.manager("toy").resolve_label("canary") == 2
    moved = config(base_path)
    moved.model_config_list.config[0].version_labels["canary"] = 1
    core.reload_config(moved)
    assert core.manager("toy").resolve_label("canary") == 1
    core.reload_config(model_server_config_pb2.ModelServerConfig(model_config_list={}))
    with pytest.raises(ServingError, match="Could not find any versions of model toy"):
        core.status("toy", None, None)
    core.close()


def test_model_config_file_is_polled(tmp_path, base_path, serve):
    path = write_config(tmp_path / "models.config", base_path)
    server = serve(model_config_file=str(path), model_config_file_poll_wait_seconds=1)
    body = '{"signature_name": "multi", "inputs": {"ids": ["a"], "counts": [1], "k": 1}}'
    url = server.url + "/v1/models/toy/labels/canary:predict"
    assert httpx.post(url, content=body).json()["outputs"]["version"] == [2]
    path.write_text(path.read_text().replace('key: "canary" value: 2', 'key: "canary" value: 1'))
    deadline = time.monotonic() + 20
    while httpx.post(url, content=body).json()["outputs"]["version"] != [1]:
        assert time.monotonic() < deadline, "the config reload did not move the label"
        time.sleep(0.2)
