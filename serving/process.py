"""A server as a child process (`rtrec serve-model`, `rtrec gateway`): started, healthy, stopped.

The demo and the benchmarks run the servers as a user would, as separate processes talking
HTTP; this is the one helper that starts one with its output in a log file, waits until a URL
answers 200 (failing early, with the log's tail, when the process dies) and stops it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

START_TIMEOUT_S = 180.0  # a cold process imports TensorFlow and loads the SavedModel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """One `rtrec` server as a child process, its output in ``log``; stopped on exit."""

    def __init__(self, command: list[str], log: Path, env: Mapping[str, str] | None = None,
                 cwd: str | os.PathLike[str] | None = None):  # fmt: skip
        self.command, self.log, self.cwd = command, log, cwd
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        """Start the process (``with`` does this; benchmarks holding several call it)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd
            )
        return self

    def __enter__(self) -> ServerProcess:
        return self.start()

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.command[3]} exited ({self.process.returncode}):\n{tail}")

    def wait_healthy(self, url: str, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s; see {self.log}")

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 30 s) if it still runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
