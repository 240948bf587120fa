"""``rtrec serve-model``'s flags: TF Serving's names and forms, and the command end to end."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from serving.model_server.flags import main
from serving.model_server.server import ServerOptions

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def parse(args: list[str]) -> ServerOptions:
    return ServerOptions(**main.make_context("serve-model", args).params)


def test_flags_are_tf_servings_and_cover_every_option():
    options = parse(
        [
            "--rest_api_port=9000",
            "--model_name=rtrec",
            "--model_base_path=/models/rtrec",
            "--file_system_poll_wait_seconds=5",
            "--enable_batching",
            "--batching_parameters_file=b.txt",
            "--enable_model_warmup=false",
            "--tensorflow_intra_op_parallelism=1",
            "--tensorflow_inter_op_parallelism=2",
        ]
    )
    assert (options.rest_api_port, options.model_name, options.model_base_path) == (
        9000,
        "rtrec",
        "/models/rtrec",
    )
    assert options.enable_batching is True and options.enable_model_warmup is False
    assert options.file_system_poll_wait_seconds == 5
    assert (options.tensorflow_intra_op_parallelism, options.tensorflow_inter_op_parallelism) == (
        1,
        2,
    )
    flag_names = {p.name for p in main.params}
    assert flag_names == {f.name for f in dataclasses.fields(ServerOptions)}


def test_defaults_are_tf_servings():
    options = parse([])
    assert options == ServerOptions()
    assert options.model_name == "default"
    assert options.file_system_poll_wait_seconds == 1
    assert options.enable_batching is False and options.enable_model_warmup is True
    assert options.rest_api_timeout_in_ms == 30_000
    assert options.tensorflow_intra_op_parallelism == options.tensorflow_inter_op_parallelism == 0


def test_thread_counts_are_refused_when_negative_or_once_tensorflow_runs():
    code = (
        "import rtrec.env, tensorflow as tf\n"
        "from serving.model_server.server import set_tensorflow_threads\n"
        "from serving.tfserving.configs import ConfigError\n"
        "for args in ((-1, 0), (0, 0)):\n"
        "    try:\n"
        "        set_tensorflow_threads(*args); print('ok', args)\n"
        "    except ConfigError as error:\n"
        "        print('refused', args, error)\n"
        "tf.constant(1) + 1\n"
        "try:\n"
        "    set_tensorflow_threads(3, 0)\n"
        "except ConfigError as error:\n"
        "    print('refused', error)\n"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    lines = out.stdout.splitlines()
    assert lines[0].startswith("refused (-1, 0) --tensorflow_intra_op_parallelism=-1"), out
    assert lines[1] == "ok (0, 0)", out
    assert "--tensorflow_intra_op_parallelism=3: TensorFlow already runs" in lines[2], out


def test_the_command_line_does_not_load_tensorflow():
    code = "import sys, serving.model_server.flags; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_no_model_is_a_usage_error():
    from serving.tfserving.configs import ConfigError

    with pytest.raises(ConfigError, match="--model_config_file and --model_base_path are empty"):
        parse([]).model_server_config()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_the_command_serves_with_its_thread_counts_and_stops_on_sigterm(base_path):
    port = free_port()
    command = [
        sys.executable, "-m", "serving.model_server", f"--rest_api_port={port}",
        "--rest_api_host=127.0.0.1", "--model_name=toy", f"--model_base_path={base_path}",
        "--tensorflow_intra_op_parallelism=1", "--tensorflow_inter_op_parallelism=2",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": REPO}
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/v1/models/toy", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "serve-model did not start"
                time.sleep(0.2)
        assert status.json()["model_version_status"][0]["state"] == "AVAILABLE"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "TensorFlow threads: intra-op 1, inter-op 2" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


def test_the_command_serves_an_attention_model_to_concurrent_batches_without_crashing(
    exported, tmp_path
):
    """TF 2.16's oneDNN kernels corrupted the heap here (the process died with "double free or
    corruption"): concurrent batches of varying size through the attention blocks."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from serving.client import ModelClient
    from serving.process import ServerProcess, free_port

    model, _, version = exported
    base = tmp_path / "base"
    base.mkdir()
    (base / "1").symlink_to(version, target_is_directory=True)
    params = tmp_path / "batching.txt"
    params.write_text(
        "max_batch_size { value: 16 }\nbatch_timeout_micros { value: 1000 }\n"
        "max_enqueued_batches { value: 64 }\nnum_batch_threads { value: 2 }\n"
    )
    port = free_port()
    command = [sys.executable, "-m", "serving.model_server", f"--rest_api_port={port}",
               "--model_name=rtrec", f"--model_base_path={base}", "--enable_batching",
               f"--batching_parameters_file={params}"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    env["PYTHONPATH"] = REPO
    with ServerProcess(command, tmp_path / "server.log", env=env, cwd=REPO) as server:
        client = ModelClient(f"http://127.0.0.1:{port}", "rtrec", timeout=60, retries=0)
        client.wait_until_available(timeout=300)
        ids = model.catalog.ids
        rng = np.random.default_rng(0)
        failures = []

        def one(i: int) -> None:
            rows = 1 + i % 3  # batches of varying size
            inputs = {
                "history_item_ids": rng.choice(ids, size=(rows, 8)).tolist(),
                "history_event_types": [["view"] * 8] * rows,
                "history_timestamps": [[1_750_000_000 + j for j in range(8)]] * rows,
            }
            try:
                client.predict(inputs, signature_name="serving_default")
            except Exception as error:  # noqa: BLE001 - every failure is counted
                failures.append(repr(error))

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, range(1200)))
        assert server.process.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
        assert failures == []
