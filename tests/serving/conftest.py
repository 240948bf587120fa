"""Toy SavedModels (built once per session) and a factory of running ``rtrec serve-model``s."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.model_server.server import ModelServer, ServerOptions
from tests.serving.toy_models import write_toy_model

MODELS_CONFIG = """
model_config_list {{
  config {{
    name: "toy"
    base_path: "{base}"
    model_platform: "tensorflow"
    model_version_policy {{ {policy} }}
    version_labels {{ key: "stable" value: 1 }}
    version_labels {{ key: "canary" value: 2 }}
  }}
}}
"""


@pytest.fixture(scope="session")
def toy_versions(tmp_path_factory) -> dict[int, Path]:
    """Saved ToyModels for versions 1 and 2, to copy into base paths."""
    root = tmp_path_factory.mktemp("toy_models")
    return {v: Path(write_toy_model(str(root / str(v)), v)) for v in (1, 2)}


@pytest.fixture
def base_path(tmp_path, toy_versions) -> Path:
    """A model base path holding copies of versions 1 and 2."""
    base = tmp_path / "toy"
    for version, source in toy_versions.items():
        shutil.copytree(source, base / str(version))
    return base


def write_config(path: Path, base: Path, policy: str = "all {}") -> Path:
    path.write_text(MODELS_CONFIG.format(base=base, policy=policy))
    return path


@pytest.fixture
def serve() -> Iterator:
    """Start a ModelServer on a free port with the given options; stopped after the test."""
    servers: list[ModelServer] = []

    def start(**options) -> ModelServer:
        options.setdefault("rest_api_port", 0)
        options.setdefault("rest_api_host", "127.0.0.1")
        options.setdefault("rest_api_num_threads", 16)
        server = ModelServer(ServerOptions(**options)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
