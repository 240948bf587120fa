"""Server-side batching: concurrent requests share a run and each gets exactly its own rows."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from serving.model_server.batching import Batcher, BatchingOptions
from serving.model_server.errors import ServingError
from serving.tfserving.configs import asset_path, load_batching_parameters


def calls(server) -> int:
    with server.core.manager("toy").acquire() as servable:
        return int(servable.module.calls.numpy())


@pytest.fixture
def batching_server(tmp_path, base_path, serve):
    params = tmp_path / "batching.txt"
    params.write_text(
        "max_batch_size { value: 8 }\nbatch_timeout_micros { value: 500000 }\n"
        "max_enqueued_batches { value: 4 }\nnum_batch_threads { value: 1 }\n"
    )
    return serve(
        model_name="toy",
        model_base_path=str(base_path),
        enable_batching=True,
        batching_parameters_file=str(params),
    )


def post(server, body: dict) -> httpx.Response:
    return httpx.post(server.url + "/v1/models/toy:predict", json=body, timeout=20)


def test_options_come_from_the_shipped_batching_file():
    options = BatchingOptions.from_proto(
        load_batching_parameters(asset_path("batching_parameters.txt"))
    )
    assert options == BatchingOptions(64, 2000, 100, 4)


@pytest.mark.slow
def test_concurrent_requests_are_batched_and_get_their_own_rows(batching_server):
    before = calls(batching_server)

    def one(i: int) -> tuple[int, dict]:
        body = {"signature_name": "multi", "inputs": {"ids": [f"id-{i}"], "counts": [i], "k": 3}}
        return i, post(batching_server, body).json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(8)))
    for i, answer in answers:
        assert answer == {"outputs": {"ids": [f"id-{i}"], "total": [3 * i], "version": [2]}}
    runs = calls(batching_server) - before
    assert runs < 8, f"8 concurrent requests ran {runs} times: not batched"
    metrics = httpx.get(batching_server.url + "/monitoring/prometheus/metrics").text
    assert 'rtrec_serving_batch_size_count{model="toy",signature="multi"}' in metrics


@pytest.mark.slow
def test_requests_with_different_scalar_inputs_are_not_merged(batching_server):
    def one(i: int) -> tuple[int, dict]:
        k = 1 + i % 2
        rows = {"ids": [f"a{i}", f"b{i}"], "counts": [i, 10 * i], "k": k}
        return i, post(batching_server, {"signature_name": "multi", "inputs": rows}).json()

    with ThreadPoolExecutor(6) as pool:
        for i, answer in pool.map(one, range(6)):
            k = 1 + i % 2
            assert answer["outputs"]["ids"] == [f"a{i}", f"b{i}"]
            assert answer["outputs"]["total"] == [i * k, 10 * i * k]


def test_row_format_and_errors_with_batching(batching_server):
    rows = post(batching_server, {"instances": [[1.0, 2.0], [3.0, 4.0]]})
    assert rows.json() == {"predictions": [[2.5, 3.0], [3.5, 4.0]]}
    too_big = post(batching_server, {"inputs": [[1.0, 2.0]] * 9})
    assert too_big.status_code == 400
    assert "Task size 9 is larger than maximum input batch size 8" in too_big.json()["error"]
    misfit = post(batching_server, {"inputs": [[1.0, 2.0, 3.0]]})
    assert misfit.status_code == 400 and "expects [?,2]" in misfit.json()["error"]


def test_splits_uneven_tasks_back_exactly():
    seen: list[int] = []

    def run(inputs):
        seen.append(len(inputs["x"]))
        return {"y": inputs["x"] * 2, "k": np.full(len(inputs["x"]), inputs["k"])}

    batcher = Batcher(run, {"x"}, BatchingOptions(16, 200_000, 4, 1))
    sizes = [1, 3, 2, 5, 4]
    tasks = [
        {"x": np.arange(n, dtype=np.float32) + 100 * i, "k": np.int32(7)}
        for i, n in enumerate(sizes)
    ]
    with ThreadPoolExecutor(len(tasks)) as pool:
        results = list(pool.map(batcher.submit, tasks))
    batcher.close()
    for task, result in zip(tasks, results):
        assert result["y"].tolist() == (task["x"] * 2).tolist()
        assert result["k"].tolist() == [7] * len(task["x"])
    assert sum(seen) == sum(sizes) and len(seen) < len(sizes)


def test_a_full_queue_sheds_load_with_unavailable():
    entered, release = threading.Event(), threading.Event()

    def run(inputs):
        entered.set()
        release.wait(10)
        return {"y": inputs["x"]}

    # One row per batch, one batch queued at most, one thread: a third request has no room.
    batcher = Batcher(run, {"x"}, BatchingOptions(1, 0, 1, 1))
    x = {"x": np.ones(1)}
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(batcher.submit, x)
        assert entered.wait(10)
        queued = pool.submit(batcher.submit, x)
        while batcher.queued_rows() < 1:
            time.sleep(0.001)
        with pytest.raises(ServingError) as raised:
            batcher.submit(x)
        release.set()
        assert running.result()["y"].tolist() == [1.0] and queued.result()["y"].tolist() == [1.0]
    batcher.close()
    assert raised.value.http_status == 503
    assert "queue to which this task was submitted is full" in raised.value.message


def test_a_request_over_the_rest_timeout_gets_504(tmp_path, base_path, serve):
    params = tmp_path / "slow.txt"
    params.write_text("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 2000000 }\n")
    server = serve(
        model_name="toy",
        model_base_path=str(base_path),
        enable_batching=True,
        batching_parameters_file=str(params),
        rest_api_timeout_in_ms=100,
    )
    answer = post(server, {"inputs": [[1.0, 2.0]]})
    assert answer.status_code == 504 and "--rest_api_timeout_in_ms=100" in answer.json()["error"]
