"""JSON values -> arrays with TF Serving's typing rules, and arrays -> JSON values."""

from __future__ import annotations

import numpy as np
import pytest

from serving.model_server.errors import ServingError
from serving.model_server.tensors import json_ready, to_array


def test_nested_lists_become_dense_tensors():
    array = to_array([[1, 2], [3, 4]], "float")
    assert array.dtype == np.float32 and array.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert to_array(3, "int32").shape == ()
    assert to_array([], "string").shape == (0,)


def test_strings_and_b64():
    """api_rest.md: binary values are {"b64": <base64 encoded string>}."""
    array = to_array([{"b64": "aW1hZ2UgYnl0ZXM="}, "caption"], "string")
    assert array.tolist() == [b"image bytes", b"caption"]
    assert to_array([["é", "b"]], "string").tolist() == [["é".encode(), b"b"]]


@pytest.mark.parametrize(
    "value, dtype, message",
    [
        (["x", "y"], "float", 'JSON Value: "x" Type: String is not of expected type: float'),
        ([1, "a"], "string", "JSON Value: 1 Type: Number is not of expected type: string"),
        ([1, True], "int64", "JSON Value: true Type: True is not of expected type: int64"),
        ([1.5], "int32", "JSON Value: 1.5 Type: Number is not of expected type: int32"),
        ([None], "float", "Type: Null is not of expected type: float"),
        ([2**40], "int32", "is not of expected type: int32"),
        ([16777217], "float", "Cannot convert JSON value: 16777217 to float without loss"),
        ([1e39], "float", "to float without loss of precision"),
        ([[1, 2], [3]], "float", "Encountered list at unexpected size: 1 at level: 1"),
        ([[1, 2], 3], "float", "JSON Value: 3 found at incorrect level: 2"),
        ([1, [2]], "float", "Encountered list at unexpected level: 1 expected < 1"),
        ([{"b64": "%%%"}], "string", "Unable to base64 decode"),
        ([{"b64": "YQ==", "x": 1}], "string", "not formatted correctly for base64 data"),
        ([{"b64": "YQ=="}], "float", "Type: Object is not of expected type: float"),
    ],
)
def test_type_and_shape_errors_name_the_value(value, dtype, message):
    with pytest.raises(ServingError) as raised:
        to_array(value, dtype)
    assert raised.value.code == "INVALID_ARGUMENT" and message in raised.value.message


def test_unsupported_dtype_is_unimplemented():
    with pytest.raises(ServingError) as raised:
        to_array([1.0], "float16")
    assert raised.value.code == "UNIMPLEMENTED" and raised.value.http_status == 501


def test_json_ready_strings_and_bytes_outputs():
    names = np.array([[b"a", b"b"], [b"c", b"d"]], dtype=object)
    assert json_ready("item_ids", names) == [["a", "b"], ["c", "d"]]
    assert json_ready("image_bytes", np.array([b"ab"], dtype=object)) == [{"b64": "YWI="}]
    assert json_ready("x", np.array([], dtype=object).reshape(2, 0)) == [[], []]
    assert json_ready("x", np.float16([1.5])).dtype == np.float32
