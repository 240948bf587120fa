"""The REST contract of ``rtrec serve-model``, written from TF Serving 2.16's documentation.

Requests and expected bodies are quoted from ``tensorflow_serving/g3doc/api_rest.md`` (the
``half_plus_three`` example) and from the expectations of TF Serving's own
``model_servers/http_rest_api_handler_test.cc``; status codes follow ``http_server.cc``'s
mapping (INVALID_ARGUMENT 400, NOT_FOUND 404). Where rtrec serve-model differs on purpose
(no :classify/:regress), the test says so.
"""

from __future__ import annotations

import json
import shutil

import httpx
import pytest

from serving.model_server.server import ModelServer, ServerOptions
from tests.serving.conftest import write_config
from tests.serving.toy_models import write_half_plus_three


@pytest.fixture(scope="module")
def half_plus_three(tmp_path_factory) -> ModelServer:
    """The doc's example: ``half_plus_three`` at version 123, served by --model_base_path."""
    base = tmp_path_factory.mktemp("half_plus_three")
    write_half_plus_three(str(base / "123"))
    options = ServerOptions(
        rest_api_port=0,
        rest_api_host="127.0.0.1",
        model_name="half_plus_three",
        model_base_path=str(base),
        file_system_poll_wait_seconds=0,
        max_body_bytes=4096,
    )
    with ModelServer(options) as server:
        yield server


@pytest.fixture(scope="module")
def toy(tmp_path_factory, toy_versions) -> ModelServer:
    """The toy model, versions 1 and 2, labels stable=1 and canary=2, from a models.config."""
    root = tmp_path_factory.mktemp("toy_served")
    for version, source in toy_versions.items():
        shutil.copytree(source, root / "toy" / str(version))
    config = write_config(root / "models.config", root / "toy")
    options = ServerOptions(
        rest_api_port=0,
        rest_api_host="127.0.0.1",
        model_config_file=str(config),
        file_system_poll_wait_seconds=0,
    )
    with ModelServer(options) as server:
        yield server


def call(server: ModelServer, method: str, path: str, body: str | bytes | None = None):
    response = httpx.request(method, server.url + path, content=body, timeout=10)
    return response.status_code, response.json(), response.headers["content-type"]


# -- api_rest.md: the half_plus_three example, verbatim ------------------------------------


def test_doc_status_example(half_plus_three):
    status, body, content_type = call(half_plus_three, "GET", "/v1/models/half_plus_three")
    assert (status, content_type) == (200, "application/json")
    assert body == {
        "model_version_status": [
            {
                "version": "123",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def test_doc_predict_example(half_plus_three):
    status, body, _ = call(
        half_plus_three, "POST", "/v1/models/half_plus_three:predict",
        '{"instances": [1.0,2.0,5.0]}',
    )  # fmt: skip
    assert (status, body) == (200, {"predictions": [3.5, 4.0, 5.5]})


def test_doc_404_example(half_plus_three):
    status, body, content_type = call(
        half_plus_three, "POST", "/v1/models/half:predict", '{"instances": [1.0,5.0]}'
    )
    assert (status, content_type) == (404, "application/json")
    assert body == {"error": "Servable not found for request: Latest(half)"}


def test_doc_regress_example_is_a_clear_400(half_plus_three):
    """TF Serving answers this with {"results": [3.5, 4.0]} (half_plus_three has a regress
    signature); rtrec models have predict signatures only, so the twin refuses it clearly."""
    status, body, _ = call(
        half_plus_three, "POST", "/v1/models/half_plus_three:regress",
        '{"signature_name": "tensorflow/serving/regress", "examples": [{"x": 1.0}, {"x": 2.0}]}',
    )  # fmt: skip
    assert status == 400
    assert "No signature was found with name: tensorflow/serving/regress" in body["error"]


def test_doc_row_and_columnar_formats(half_plus_three):
    """http_rest_api_handler_test.cc's Predict cases (half_plus_two there, plus one here)."""
    path = "/v1/models/half_plus_three/versions/123:predict"
    rows = call(half_plus_three, "POST", path, '{"instances": [[1.0, 2.0], [3.0, 4.0]]}')
    assert rows[:2] == (200, {"predictions": [[3.5, 4.0], [4.5, 5.0]]})
    named = '{"signature_name": "serving_default", "instances": [3.0, 4.0]}'
    assert call(half_plus_three, "POST", path, named)[:2] == (200, {"predictions": [4.5, 5.0]})
    columnar = '{"signature_name": "serving_default", "inputs": [3.0, 4.0]}'
    assert call(half_plus_three, "POST", path, columnar)[:2] == (200, {"outputs": [4.5, 5.0]})
    scalar = call(half_plus_three, "POST", path, '{"inputs": 3.0}')
    assert scalar[:2] == (200, {"outputs": 4.5})


def test_metadata_has_tf_servings_shape(half_plus_three):
    """Shape of testdata/saved_model_half_plus_two_2_versions_metadata.json."""
    status, body, _ = call(half_plus_three, "GET", "/v1/models/half_plus_three/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "half_plus_three", "signature_name": "", "version": "123"}
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    assert signature["defaults"] == {}
    assert signature["inputs"]["x"]["dtype"] == "DT_FLOAT"
    assert signature["inputs"]["x"]["tensor_shape"] == {"dim": [], "unknown_rank": True}
    assert signature["inputs"]["x"]["name"].startswith("serving_default_x")
    assert set(signature["outputs"]["y"]) == {"dtype", "tensor_shape", "name"}


def test_metadata_of_a_known_shape(toy):
    status, body, _ = call(toy, "GET", "/v1/models/toy/labels/stable/metadata")
    assert status == 200 and body["model_spec"]["version"] == "1"
    multi = body["metadata"]["signature_def"]["signature_def"]["multi"]
    assert multi["inputs"]["ids"]["tensor_shape"] == {
        "dim": [{"size": "-1", "name": ""}],
        "unknown_rank": False,
    }
    assert multi["inputs"]["k"]["tensor_shape"] == {"dim": [], "unknown_rank": False}
    assert multi["inputs"]["k"]["dtype"] == "DT_INT32"
    assert multi["outputs"]["total"]["dtype"] == "DT_INT64"


# -- versions and labels ---------------------------------------------------------------------


def test_status_lists_versions_newest_first_and_by_label(toy):
    status, body, _ = call(toy, "GET", "/v1/models/toy")
    assert status == 200
    assert [(r["version"], r["state"]) for r in body["model_version_status"]] == [
        ("2", "AVAILABLE"),
        ("1", "AVAILABLE"),
    ]
    _, canary, _ = call(toy, "GET", "/v1/models/toy/labels/canary")
    assert [r["version"] for r in canary["model_version_status"]] == ["2"]
    _, one, _ = call(toy, "GET", "/v1/models/toy/versions/1")
    assert [r["version"] for r in one["model_version_status"]] == ["1"]


@pytest.mark.parametrize(
    "path, version",
    [
        ("/v1/models/toy:predict", 2),
        ("/v1/models/toy/versions/1:predict", 1),
        ("/v1/models/toy/labels/stable:predict", 1),
        ("/v1/models/toy/labels/canary:predict", 2),
    ],
)
def test_predict_routes_by_version_and_label(toy, path, version):
    body = '{"signature_name": "multi", "inputs": {"ids": ["a"], "counts": [2], "k": 3}}'
    status, answer, _ = call(toy, "POST", path, body)
    assert status == 200
    assert answer == {"outputs": {"ids": ["a"], "total": [6], "version": [version]}}


# -- the predict formats on rtrec-shaped signatures -------------------------------------------


def test_multi_output_row_format_is_a_list_of_objects(toy):
    body = {"signature_name": "bytes", "instances": [{"b64": "aW1hZ2UgYnl0ZXM="}, "ab"]}
    status, answer, _ = call(toy, "POST", "/v1/models/toy:predict", json.dumps(body))
    assert status == 200
    assert answer == {
        "predictions": [
            {"echo_bytes": {"b64": "aW1hZ2UgYnl0ZXM="}, "length": 11},
            {"echo_bytes": {"b64": "YWI="}, "length": 2},
        ]
    }


def test_an_error_inside_the_graph_is_a_400_with_tensorflows_message(toy):
    good = call(
        toy, "POST", "/v1/models/toy:predict", '{"signature_name": "lookup", "inputs": [2]}'
    )
    assert good[:2] == (200, {"outputs": ["c"]})
    status, body, _ = call(
        toy, "POST", "/v1/models/toy:predict", '{"signature_name": "lookup", "inputs": [7]}'
    )
    assert status == 400 and "indices[0] = 7 is not in [0, 3)" in body["error"]


def test_tf_text_signature_runs(toy):
    body = '{"signature_name": "tokens", "inputs": ["a b c", "d"]}'
    assert call(toy, "POST", "/v1/models/toy:predict", body)[:2] == (200, {"outputs": [3, 1]})


# -- errors: TF Serving's codes and messages ------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body, status, message",
    [
        ("POST", "/v1/models/toy:predict", "", 400, "JSON Parse error: The document is empty"),
        ("POST", "/v1/models/toy:predict", "instances = [1, 2]", 400, "JSON Parse error"),
        ("POST", "/v1/models/toy:predict", '{"instances": ["x", "y"]}', 400,
         "not of expected type: float"),
        ("POST", "/v1/models/toy/labels/Version_Nonexistent:predict", '{"instances": ["x"]}',
         400, "Unrecognized servable version label"),
        ("POST", "/v1/models/toy:predict", '{"signature_name": 100}', 400,
         "'signature_name' key must be a string value."),
        ("POST", "/v1/models/toy:predict", '{"signature_name": "nope", "inputs": [1]}', 400,
         'Serving signature name: "nope" not found in signature def'),
        ("POST", "/v1/models/toy:predict", '{"signature_name": "multi", "inputs": {"ids": ["a"]}}',
         400, "Missing named input: counts in 'inputs' object."),
        ("POST", "/v1/models/toy:predict", '{"inputs": [[1.0, 2.0]], "instances": [[1.0, 2.0]]}',
         400, "expecting only one of 'inputs' or 'instances' keys to exist"),
        ("POST", "/v1/models/toy:predict", '{"signature_name": "multi"}', 400,
         "Missing 'inputs' or 'instances' key"),
        ("POST", "/v1/models/toy:predict", '{"instances": []}', 400, "No values in 'instances'"),
        ("POST", "/v1/models/toy:predict", '{"inputs": [[1, 2, 3]]}', 400,
         "has shape [1,3] but the signature expects [?,2]"),
        ("POST", "/v1/models/toy:predict", '{"signature_name": "multi", "inputs": '
         '{"ids": ["a"], "counts": [1.5], "k": 1}}', 400, "is not of expected type: int64"),
        ("POST", "/v1/models/foo:predict", '{"instances": [1]}', 404,
         "Servable not found for request: Latest(foo)"),
        ("POST", "/v1/models/foo/versions/50:predict", '{"instances": [1]}', 404,
         "Servable not found for request: Specific(foo, 50)"),
        ("POST", "/v1/models/toy/versions/99:predict", '{"instances": [1]}', 404,
         "Servable not found for request: Specific(toy, 99)"),
        ("GET", "/v1/models/toy/versions/99", None, 404, "Could not find version 99 of model toy"),
        ("GET", "/v1/models/foo", None, 404, "Could not find any versions of model foo"),
        ("GET", "/v1/models/toy/labels/nope", None, 400, "Unrecognized servable version label"),
        ("GET", "/v1/foo", None, 400, "Malformed request"),
        ("POST", "/v1/foo", "", 400, "Malformed request"),
        ("GET", "/v1/models", None, 400, "Missing model name"),
        ("GET", "/v1/models/debug/model_name", None, 400, "Malformed request"),
        ("POST", "/v1/models", "", 400, "Malformed request"),
        ("GET", "/v1/models/foo:predict", None, 400, "Malformed request"),
        ("POST", "/v1/models/foo/version/50:regress", "", 400, "Malformed request"),
        ("POST", "/v1/models/foo/versions/HELLO:regress", "", 400, "Malformed request"),
        ("POST", f"/v1/models/foo/versions/{2**64 - 1}:regress", "", 400,
         "Failed to convert version"),
        ("POST", "/v1/models/foo/metadata", "", 400, "Malformed request"),
        ("POST", "/v1/models/foo/versions/50/labels/some_label:regress", "", 400,
         "Malformed request"),
        ("POST", "/v1/models/toy:classify", '{"examples": [{"x": 1.0}]}', 400,
         "Expected classify signature method_name to be tensorflow/serving/classify"),
        ("POST", "/v1/models/nope:classify", '{"examples": [{"x": 1.0}]}', 404,
         "Servable not found"),
        ("GET", "/index", None, 404, "Not found: /index"),
    ],
)  # fmt: skip
def test_errors(toy, method, path, body, status, message):
    got_status, got_body, content_type = call(toy, method, path, body)
    assert (got_status, content_type) == (status, "application/json")
    assert set(got_body) == {"error"} and message in got_body["error"], got_body


def test_body_over_the_limit_is_413(half_plus_three):
    big = '{"instances": [' + ",".join(["1.0"] * 2000) + "]}"
    status, body, _ = call(half_plus_three, "POST", "/v1/models/half_plus_three:predict", big)
    assert status == 413 and "--max_body_bytes" in body["error"]


def test_metrics_count_requests_by_route_and_status(toy):
    call(toy, "POST", "/v1/models/toy:predict", '{"instances": [[1.0, 2.0]]}')
    call(toy, "POST", "/v1/models/toy:predict", "")
    response = httpx.get(toy.url + "/monitoring/prometheus/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/")
    text = response.text
    assert 'rtrec_serving_requests_total{code="200",method="POST",route="predict"}' in text
    assert 'rtrec_serving_requests_total{code="400",method="POST",route="predict"}' in text
    assert 'rtrec_serving_request_latency_seconds_bucket{code="200",le=' in text
    assert 'rtrec_serving_model_version_state{model="toy",state="AVAILABLE",version="2"} 1.0' in (
        text
    )
    assert 'rtrec_serving_predict_requests_total{code="200",model="toy"' in text
