"""A real redis-server per test, on a free loopback port in a tmp dir, durable as in production.

The Redis backend is tested against the server, not a fake, because what matters (Lua
atomicity, AOF recovery after kill -9) is the server's behaviour. A missing redis-server fails
the tests with what to run; `RTREC_SKIP_REDIS=1` skips them on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis

from serving.process import free_port as _free_port

SKIP_VAR = "RTREC_SKIP_REDIS"


class RedisServer:
    """One redis-server process with AOF on every write; restartable on the same data dir."""

    def __init__(self, binary: str, data_dir: Path) -> None:
        self.binary, self.data_dir = binary, data_dir
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, keep_port: bool = False) -> None:
        """Start and wait until it answers (after loading its AOF); retry a port someone took."""
        for _ in range(3):
            self.port = self.port if keep_port else _free_port()
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                 str(self.data_dir), "--appendonly", "yes", "--appendfsync", "always",
                 "--save", "", "--logfile", "redis.log"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready():
                return
        log = (self.data_dir / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start in {self.data_dir}:\n{log}")

    def _wait_ready(self, timeout_s: float = 15.0) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=1.0, retry=None)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    client.ping()
                    return True
                except (redis.ConnectionError, redis.TimeoutError):  # not up, or loading AOF
                    time.sleep(0.02)
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no SHUTDOWN, no final save, exactly what a crash leaves behind."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running redis-server for one test, killed afterwards."""
    if os.environ.get(SKIP_VAR) == "1":
        pytest.skip(f"{SKIP_VAR}=1: Redis backend tests skipped on request")
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed, so the Redis store cannot be tested: run `make setup` "
            f"(it installs Debian's redis-server), or set {SKIP_VAR}=1 to skip these tests",
            pytrace=False,
        )
    data_dir = tmp_path / "redis"
    data_dir.mkdir()
    server = RedisServer(binary, data_dir)
    server.start()
    yield server
    server.kill()


# --- The gateway over the tiny exported model -------------------------------------------------

MODELS_CONFIG = """
model_config_list {{
  config {{
    name: "rtrec"
    base_path: "{base}"
    model_platform: "tensorflow"
    model_version_policy {{ all {{}} }}
    version_labels {{ key: "stable" value: 1 }}
    version_labels {{ key: "canary" value: 2 }}
  }}
}}
"""
TOKEN = "test-token"
ARMS = [
    {"name": "control", "label": "stable", "share": 0.5},
    {"name": "canary", "label": "canary", "share": 0.5},
]


@pytest.fixture(scope="session")
def model_config(exported, tmp_path_factory) -> Path:
    """The tiny export as versions 1 (label stable) and 2 (canary, a copy) of model rtrec."""
    _, _, path = exported
    base = tmp_path_factory.mktemp("gateway_models") / "rtrec"
    shutil.copytree(path, base / "1")
    shutil.copytree(path, base / "2")
    config = base.parent / "models.config"
    config.write_text(MODELS_CONFIG.format(base=base))
    return config


@pytest.fixture(scope="session")
def model_server(request):
    """``rtrec serve-model`` in this process for the whole session (loading is the slow part).

    ``RTREC_TEST_MODEL_URL`` names a server already serving the tiny model's models.config
    (``model_config``'s layout) instead, to iterate on the gateway without training each run."""
    from serving.client import ModelClient
    from serving.model_server.server import ModelServer, ServerOptions

    if os.environ.get("RTREC_TEST_MODEL_URL"):
        yield SimpleNamespace(url=os.environ["RTREC_TEST_MODEL_URL"])
        return
    model_config = request.getfixturevalue("model_config")

    options = ServerOptions(
        model_config_file=str(model_config), rest_api_port=0, rest_api_host="127.0.0.1",
        rest_api_num_threads=16,
    )  # fmt: skip
    with ModelServer(options).start() as server:
        with ModelClient(server.url, "rtrec", timeout=30.0, retries=0) as client:
            for version in (1, 2):
                client.wait_until_available(version, timeout=120.0)
        yield server


def gateway_config(model_url: str, root: Path, store_url: str, **gateway: object):
    """The run config a test gateway reads: the tiny model's history length, ARMS."""
    from rtrec.config import load

    values = {
        "model_url": model_url, "model_name": "rtrec", "store": store_url,
        "event_log": str(root / "log"), "arms": ARMS, "salt": "test", "model_timeout_s": 10.0,
        **gateway,
    }  # fmt: skip
    cfg = load(None, ["trainer.hparams.history_length=5"])
    for name, value in values.items():
        setattr(cfg.gateway, name, value)
    return cfg


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path) -> str:
    """Each gateway test runs on both store backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    return request.getfixturevalue("redis_server").url


@pytest.fixture
def make_gateway(model_server, tmp_path):
    """Factory: (TestClient, Gateway) for a store URL and gateway overrides; closed after."""
    from fastapi.testclient import TestClient

    from serving.gateway.app import create_app
    from serving.gateway.service import Gateway
    from serving.gateway.settings import Settings

    made = []

    def make(store: str, token: str | None = TOKEN, model_url: str | None = None, **gateway):
        cfg = gateway_config(model_url or model_server.url, tmp_path, store, **gateway)
        gw = Gateway.open(Settings.from_config(cfg, token))
        client = TestClient(create_app(gw), headers={"Authorization": f"Bearer {TOKEN}"})
        made.append((client, gw))
        return client, gw

    yield make
    for client, gw in made:
        client.close()
        gw.close()


@pytest.fixture
def api(make_gateway, store_url):
    """A gateway test client on the parametrized store backend."""
    client, _ = make_gateway(store_url)
    return client
