"""Predict bodies in TF Serving's row and columnar formats (examples from api_rest.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serving.model_server.errors import ServingError
from serving.model_server.predict_json import COLUMNAR, ROW, dumps_predict, loads, parse_predict
from serving.model_server.tensors import InputSpec

SENSORS = {
    "tag": InputSpec("tag", "string", (None,)),
    "signal": InputSpec("signal", "int64", (None, 5)),
    "sensor": InputSpec("sensor", "int64", (None, 2, 2)),
}


def parse(body: str, specs=SENSORS):
    return parse_predict(loads(body.encode()), lambda signature: specs)


def test_doc_row_and_columnar_examples_give_the_same_tensors():
    """The doc's multi-input example (its stray ']' after the second signal fixed)."""
    rows = parse("""{
     "instances": [
       {"tag": "foo", "signal": [1, 2, 3, 4, 5], "sensor": [[1, 2], [3, 4]]},
       {"tag": "bar", "signal": [3, 4, 1, 2, 5], "sensor": [[4, 5], [6, 8]]}
     ]}""")
    columns = parse("""{
     "inputs": {
       "tag": ["foo", "bar"],
       "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],
       "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]
     }}""")
    assert (rows.format, columns.format) == (ROW, COLUMNAR)
    for name in SENSORS:
        assert rows.inputs[name].dtype == columns.inputs[name].dtype
        assert rows.inputs[name].tolist() == columns.inputs[name].tolist()
    assert rows.inputs["sensor"].shape == (2, 2, 2)


def test_doc_single_input_row_examples():
    one = {"x": InputSpec("x", "string", (None,))}
    assert parse('{"instances": [ "foo", "bar", "baz" ]}', one).inputs["x"].shape == (3,)
    two = {"x": InputSpec("x", "int32", (None, 1, 2))}
    assert parse('{"instances": [ [[1, 2]], [[3, 4]] ]}', two).inputs["x"].shape == (2, 1, 2)


def test_nan_and_infinity_are_accepted_as_tf_serving_does():
    specs = {"x": InputSpec("x", "float", (None,))}
    x = parse('{"inputs": [1.0, NaN, Infinity, -Infinity]}', specs).inputs["x"]
    assert np.isnan(x[1]) and x[2] == np.inf and x[3] == -np.inf


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"instances": ["foo"]}', "instances is a plain list, but expecting list of objects"),
        ('{"inputs": ["foo"]}', "inputs is a plain value/list, but expecting an object"),
        ('{"instances": [{"tag": "a"}]}', "keys must be equal to: sensor,signal,tag"),
        ('{"instances": [{"tag": "a", "zzz": 1}]}', "does not have named input: zzz"),
        (
            '{"instances": [{"tag": "a", "signal": [1,2,3,4,5], "sensor": [[1,2],[3,4]]},'
            ' {"tag": "b", "signal": [1,2,3,4], "sensor": [[1,2],[3,4]]}]}',
            "Failed to process element: 1 key: signal of 'instances' list. Error: "
            "INVALID_ARGUMENT: Expecting tensor size: 5 but got: 4",
        ),
        ("[1, 2]", "Is not object"),
        ('{"instances": {"tag": "a"}}', "Excepting 'instances' to be an list/array"),
    ],
)
def test_format_errors(body, message):
    with pytest.raises(ServingError) as raised:
        parse(body)
    assert raised.value.http_status == 400 and message in raised.value.message


def test_responses_unwrap_a_single_output():
    y = np.array([3.5, 4.0], dtype=np.float32)
    assert json.loads(dumps_predict({"y": y}, ROW)) == {"predictions": [3.5, 4.0]}
    assert json.loads(dumps_predict({"y": y}, COLUMNAR)) == {"outputs": [3.5, 4.0]}
    two = {"ids": np.array([[b"a", b"b"]], dtype=object), "scores": np.float32([[0.5, 0.25]])}
    assert json.loads(dumps_predict(two, ROW)) == {
        "predictions": [{"ids": ["a", "b"], "scores": [0.5, 0.25]}]
    }
    assert json.loads(dumps_predict(two, COLUMNAR)) == {
        "outputs": {"ids": [["a", "b"]], "scores": [[0.5, 0.25]]}
    }


def test_float32_outputs_are_written_shortest_and_nan_as_a_token():
    assert dumps_predict({"y": np.float32([0.2, 3.0])}, COLUMNAR) == b'{"outputs":[0.2,3.0]}'
    body = dumps_predict({"y": np.float32([np.nan, np.inf])}, COLUMNAR)
    assert body == b'{"outputs":[NaN,Infinity]}'


def test_row_responses_need_a_common_batch_dimension():
    with pytest.raises(ServingError, match="has no shape information"):
        dumps_predict({"a": np.float32(1.0), "b": np.float32([1.0])}, ROW)
    with pytest.raises(ServingError, match="inconsistent batch size: 1 expecting: 2"):
        dumps_predict({"a": np.float32([1.0, 2.0]), "b": np.float32([1.0])}, ROW)
