"""A real redis-server per test, on a free loopback port in a tmp dir, durable as in production.

The Redis backend is tested against the server, not a fake, because what matters (Lua
atomicity, AOF recovery after kill -9) is the server's behaviour. A missing redis-server fails
the tests with what to run; `RTREC_SKIP_REDIS=1` skips them on purpose.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

SKIP_VAR = "RTREC_SKIP_REDIS"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
