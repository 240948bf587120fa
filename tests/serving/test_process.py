"""The child-server helper the demo and the benchmarks start their servers with."""

from __future__ import annotations

import sys

import pytest

from serving.process import ServerProcess, free_port


def test_a_server_is_waited_for_then_stopped(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with ServerProcess(command, tmp_path / "logs" / "http.log", cwd=tmp_path) as server:
        server.wait_healthy(f"http://127.0.0.1:{port}/", timeout_s=60)
        assert server.process.poll() is None
    assert server.process.poll() is not None  # stopped on exit
    assert (tmp_path / "logs" / "http.log").exists()


def test_a_server_that_dies_fails_at_once_with_its_log(tmp_path):
    command = [sys.executable, "-c", "import sys; print('no such model'); sys.exit(3)", "x"]
    with ServerProcess(command, tmp_path / "dead.log") as server:
        with pytest.raises(RuntimeError, match="exited \\(3\\)"):
            server.wait_healthy(f"http://127.0.0.1:{free_port()}/", timeout_s=60)
    assert "no such model" in (tmp_path / "dead.log").read_text()


def test_start_and_stop_work_without_a_with_block(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = ServerProcess(command, tmp_path / "http.log", cwd=tmp_path).start()
    server.wait_healthy(f"http://127.0.0.1:{port}/", timeout_s=60)
    server.stop()
    assert server.process.poll() is not None
    server.stop()  # stopping twice is harmless
