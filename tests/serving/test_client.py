"""serving/client.py against a running ``rtrec serve-model``, and its retry rules on a mock."""

from __future__ import annotations

import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import orjson
import pytest
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

import serving.client
from serving.client import ModelClient, ModelServerError, ModelServerUnreachableError
from serving.process import free_port
from tests.serving.conftest import write_config


@pytest.fixture
def client(tmp_path, base_path, serve):
    config = write_config(tmp_path / "models.config", base_path)
    server = serve(model_config_file=str(config), file_system_poll_wait_seconds=0)
    with ModelClient(server.url, "toy", timeout=10) as client:
        yield client


def test_status_and_metadata_by_version_and_label(client):
    assert [(r["version"], r["state"]) for r in client.status()] == [
        ("2", "AVAILABLE"),
        ("1", "AVAILABLE"),
    ]
    assert client.status(version=1)[0]["status"] == {"error_code": "OK", "error_message": ""}
    assert client.status(label="canary")[0]["version"] == "2"
    metadata = client.metadata(label="stable")
    assert metadata["model_spec"]["version"] == "1"
    assert "multi" in metadata["metadata"]["signature_def"]["signature_def"]
    assert client.wait_until_available(version=2, timeout=5) == 2


def test_predict_columnar_and_rows_with_routing(client):
    inputs = {"ids": np.array(["a", "b"]), "counts": np.array([1, 2]), "k": 5}
    assert client.predict(inputs, signature_name="multi", label="canary") == {
        "ids": ["a", "b"],
        "total": [5, 10],
        "version": [2, 2],
    }
    assert client.predict(inputs, signature_name="multi", version=1)["version"] == [1, 1]
    rows = client.predict(instances=np.array([[1.0, 2.0]], dtype=np.float32), label="stable")
    assert rows == [[1.5, 2.0]]
    echoed = client.predict([b"\x00\xffraw", b"x"], signature_name="bytes")
    assert echoed == {"echo_bytes": [{"b64": "AP9yYXc="}, {"b64": "eA=="}], "length": [5, 1]}


def test_errors_carry_the_status_and_the_server_message(client):
    with pytest.raises(ModelServerError) as raised:
        client.predict({"x": [[1.0, 2.0]]}, signature_name="nope")
    assert raised.value.status == 400
    assert raised.value.message == 'Serving signature name: "nope" not found in signature def'
    with pytest.raises(ModelServerError) as raised:
        client.predict(instances=[[1.0, 2.0]], version=7)
    assert raised.value.status == 404
    assert raised.value.message == "Servable not found for request: Specific(toy, 7)"
    with pytest.raises(ValueError, match="not both"):
        client.status(version=1, label="stable")
    with pytest.raises(ValueError, match="exactly one"):
        client.predict()


class ReplayPool:
    """A stand-in for urllib3's pool that replays ``answers`` (status codes or exceptions)."""

    def __init__(self, answers: list) -> None:
        self.answers, self.seen = answers, []

    def urlopen(self, method, url, **kwargs):
        self.seen.append({"method": method, "url": url, **kwargs})
        answer = self.answers[min(len(self.seen), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        body = {"error": f"status {answer}"} if answer != 200 else {"outputs": [1.0]}
        return SimpleNamespace(status=answer, data=orjson.dumps(body))

    def close(self) -> None:
        pass


def mock_client(answers: list, **options) -> tuple[ModelClient, list[dict]]:
    """A client whose pool replays ``answers``; the calls it saw."""
    pool = ReplayPool(answers)
    options.setdefault("backoff", 0.001)
    return ModelClient("http://model", "toy", pool=pool, **options), pool.seen


def test_5xx_and_connection_errors_are_retried_with_backoff():
    refused = NewConnectionError(None, "Connection refused")
    client, seen = mock_client([503, refused, 200], retries=3)
    assert client.predict([1.0]) == [1.0]
    assert len(seen) == 3


def test_4xx_is_not_retried():
    client, seen = mock_client([400], retries=3)
    with pytest.raises(ModelServerError) as raised:
        client.predict([1.0])
    assert (raised.value.status, raised.value.message, len(seen)) == (400, "status 400", 1)


def test_retries_give_up_with_the_last_error():
    client, seen = mock_client([500], retries=2)
    with pytest.raises(ModelServerError) as raised:
        client.status()
    assert raised.value.status == 500 and len(seen) == 3
    client, seen = mock_client([ReadTimeoutError(None, "/v1/models/toy", "slow")], retries=1)
    with pytest.raises(ModelServerUnreachableError, match="no answer from http://model/v1/"):
        client.metadata()
    assert len(seen) == 2


def test_every_call_has_a_timeout_and_no_retries_of_its_own():
    client, seen = mock_client([200], timeout=1.5)
    client.predict([1.0])
    client.predict([1.0], timeout=0.25)
    assert [s["timeout"].total for s in seen] == [1.5, 0.25]
    assert [s["pool_timeout"] for s in seen] == [1.5, 0.25]
    assert {(s["retries"], s["redirect"]) for s in seen} == {(False, False)}  # tenacity's job


def test_one_client_retries_each_threads_calls_on_their_own():
    """The retry policy is built once and shared; tenacity must keep each call's attempts apart."""
    local = threading.local()

    class FirstCallPerThreadFails(ReplayPool):
        def urlopen(self, method, url, **kwargs):
            local.calls = getattr(local, "calls", 0) + 1
            self.seen.append(threading.get_ident())
            if local.calls == 1:
                raise NewConnectionError(None, "Connection refused")
            return SimpleNamespace(status=200, data=orjson.dumps({"outputs": [1.0]}))

    pool = FirstCallPerThreadFails([])
    client = ModelClient("http://model", "toy", pool=pool, retries=1, backoff=0.01)
    barrier = threading.Barrier(8)

    def call() -> list:
        barrier.wait()
        return [client.predict([1.0]) for _ in range(5)]

    with ThreadPoolExecutor(8) as threads:
        answers = list(threads.map(lambda _: call(), range(8)))
    assert answers == [[[1.0]] * 5] * 8  # one retry each time was enough, in every thread
    assert len(pool.seen) == 8 * 6


def test_a_base_url_with_a_path_prefix_keeps_it():
    pool = ReplayPool([200])
    ModelClient("http://gateway.internal/tfserving/", "toy", pool=pool).predict([1.0])
    assert pool.seen[0]["url"] == "/tfserving/v1/models/toy:predict"


def test_a_server_that_is_down_is_unreachable_not_an_http_error():
    with ModelClient(f"http://127.0.0.1:{free_port()}", "toy", retries=0, timeout=2) as client:
        with pytest.raises(ModelServerUnreachableError, match="no answer from http://127.0.0.1"):
            client.status()


def test_reads_no_flags_or_environment():
    source = inspect.getsource(serving.client)
    for reader in ("os.environ", "getenv", "sys.argv", "click", "argparse"):
        assert reader not in source
