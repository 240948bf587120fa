"""serving/client.py against a running ``rtrec serve-model``, and its retry rules on a mock."""

from __future__ import annotations

import inspect

import httpx
import numpy as np
import pytest

import serving.client
from serving.client import ModelClient, ModelServerError
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


def mock_client(answers: list, **options) -> tuple[ModelClient, list[httpx.Request]]:
    """A client whose transport replays ``answers`` (status codes or exceptions) in order."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        body = {"error": f"status {answer}"} if answer != 200 else {"outputs": [1.0]}
        return httpx.Response(answer, json=body)

    options.setdefault("backoff", 0.001)
    client = ModelClient("http://model", "toy", transport=httpx.MockTransport(handle), **options)
    return client, seen


def test_5xx_and_connection_errors_are_retried_with_backoff():
    client, seen = mock_client([503, httpx.ConnectError("refused"), 200], retries=3)
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
    client, seen = mock_client([httpx.ReadTimeout("slow")], retries=1)
    with pytest.raises(httpx.ReadTimeout):
        client.metadata()
    assert len(seen) == 2


def test_every_call_has_a_timeout():
    client, seen = mock_client([200], timeout=1.5)
    client.predict([1.0])
    client.predict([1.0], timeout=0.25)
    assert seen[0].extensions["timeout"]["read"] == 1.5
    assert seen[1].extensions["timeout"]["read"] == 0.25


def test_reads_no_flags_or_environment():
    source = inspect.getsource(serving.client)
    for reader in ("os.environ", "getenv", "sys.argv", "click", "argparse"):
        assert reader not in source
