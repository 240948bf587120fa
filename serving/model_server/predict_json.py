"""TF Serving's REST predict bodies: the row and columnar formats, in and out.

Follows ``FillPredictRequestFromJson`` and ``MakeJsonFromTensors`` of TF Serving's
``util/json_tensor.cc``: the checks run in TF Serving's order (the body, then the model and
signature, then the tensors) with its messages, and a single output is unwrapped. Responses are
written with orjson straight from numpy arrays; the stdlib only writes NaN and Infinity.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from serving.model_server.errors import ServingError, invalid_argument
from serving.model_server.tensors import (
    InputSpec,
    is_b64,
    is_named_object,
    json_ready,
    plain,
    shape_text,
    show,
    to_array,
)

ROW, COLUMNAR = "row", "columnar"


@dataclass(frozen=True)
class PredictRequest:
    """A parsed predict body: which signature, which format, and the input tensors."""

    signature_name: str
    format: str
    inputs: dict[str, np.ndarray]


def loads(body: bytes) -> Any:
    """Parse a JSON body like rapidjson with ``kParseNanAndInfFlag`` (NaN and Infinity allowed).

    A syntax error keeps TF Serving's ``JSON Parse error: ... at offset: N`` shape, with
    orjson's wording of the problem in place of rapidjson's (e.g. "Invalid value.").
    """
    if not body:
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as strict_error:
        try:  # the stdlib parser accepts NaN, Infinity and -Infinity, as TF Serving does
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise invalid_argument(
                f"JSON Parse error: {strict_error.msg} at offset: {strict_error.pos}"
            ) from None


def parse_predict(doc: Any, get_inputs: Callable[[str], Mapping[str, InputSpec]]) -> PredictRequest:
    """The tensors of a predict request (``FillPredictRequestFromJson``).

    ``get_inputs(signature_name)`` resolves the model and signature; it runs after the body's
    top level is checked and before the tensors are built, in TF Serving's order.
    """
    if not isinstance(doc, dict):
        raise invalid_argument(f"JSON Value: {show(doc)} Is not object")
    signature = doc.get("signature_name", "")
    if not isinstance(signature, str):
        raise invalid_argument(
            f"JSON Value: {show(doc)} not formatted correctly. "
            "'signature_name' key must be a string value."
        )
    specs = get_inputs(signature)
    if not specs:
        raise invalid_argument(f"Failed to get input map for signature: {signature or 'DEFAULT'}")
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise invalid_argument(
            f"JSON Value: {show(doc)} Not formatted correctly expecting only one of 'inputs' or "
            "'instances' keys to exist "
        )
    if has_instances:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise invalid_argument(
                f"JSON Value: {show(doc)} Excepting 'instances' to be an list/array"
            )
        if not instances:
            raise invalid_argument(f"JSON Value: {show(doc)} No values in 'instances' array")
        return PredictRequest(signature, ROW, _from_instances(instances, specs))
    if has_inputs:
        return PredictRequest(signature, COLUMNAR, _from_inputs(doc["inputs"], specs))
    raise invalid_argument("Missing 'inputs' or 'instances' key")


def _from_instances(instances: list, specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    names = sorted(specs)
    first_is_object = is_named_object(instances[0])
    if not isinstance(instances[0], dict) and len(specs) > 1:
        raise invalid_argument(
            "instances is a plain list, but expecting list of objects as multiple input "
            "tensors required as per tensorinfo_map"
        )
    if not first_is_object:
        name = names[0]
        for i, item in enumerate(instances):
            if is_named_object(item):
                raise invalid_argument(
                    f"Expecting value/list but got object at item {i} of input list"
                )
        try:
            return {name: to_array(instances, specs[name].dtype)}
        except ServingError:  # find the element at fault, for TF Serving's message
            _check_elements(instances, name, specs[name].dtype, keyed=False)
            raise
    for i, item in enumerate(instances):
        if not is_named_object(item):
            raise invalid_argument(f"Expecting object but got list at item {i} of input list")
        for key in item:
            if key not in specs:
                raise invalid_argument(
                    f"Failed to process element: {i} key: {key} of 'instances' list. Error: "
                    f"INVALID_ARGUMENT: JSON object: does not have named input: {key}"
                )
        if set(item) != set(specs):
            raise invalid_argument(
                f"Failed to process element: {i} of 'instances' list. JSON object: "
                f"{show(item)} keys must be equal to: {','.join(names)}"
            )
    tensors = {}
    for name in names:
        column = [item[name] for item in instances]
        try:
            tensors[name] = to_array(column, specs[name].dtype)
        except ServingError:
            _check_elements(column, name, specs[name].dtype, keyed=True)
            raise
    return tensors


def _check_elements(column: list, name: str, dtype: str, keyed: bool) -> None:
    """Raise TF Serving's error for the first element of ``column`` that is at fault."""
    shape = None
    for i, item in enumerate(column):
        where = f"{i} key: {name}" if keyed else f"{i}"
        try:
            array = to_array(item, dtype)
        except ServingError as error:
            raise invalid_argument(
                f"Failed to process element: {where} of 'instances' list. Error: "
                f"INVALID_ARGUMENT: {error.message}"
            ) from None
        if shape is None:
            shape = array.shape
        elif array.shape != shape:
            detail = (
                f"Expecting tensor size: {math.prod(shape)} but got: {array.size}"
                if array.size != math.prod(shape)
                else f"Expecting shape {shape_text(shape)} but got: {shape_text(array.shape)}"
            )
            raise invalid_argument(
                f"Failed to process element: {where} of 'instances' list. Error: "
                f"INVALID_ARGUMENT: {detail}"
            )


def _from_inputs(value: Any, specs: Mapping[str, InputSpec]) -> dict[str, np.ndarray]:
    if not isinstance(value, dict) or is_b64(value):
        if len(specs) > 1:
            raise invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map"
            )
        (name,) = specs
        return {name: to_array(value, specs[name].dtype)}
    tensors = {}
    for name in sorted(specs):
        if name not in value:
            raise invalid_argument(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = to_array(value[name], specs[name].dtype)
    return tensors


def dumps_predict(outputs: Mapping[str, np.ndarray], request_format: str) -> bytes:
    """The JSON body for ``outputs`` (``MakeJsonFromTensors``): one tensor is unwrapped."""
    if not outputs:
        raise invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    arrays = {name: np.asarray(outputs[name]) for name in names}
    values = {name: json_ready(name, arrays[name]) for name in names}
    if request_format == COLUMNAR:
        doc: Any = {"outputs": values[names[0]] if len(names) == 1 else values}
    else:
        batch = None
        for name in names:
            shape = arrays[name].shape
            if not shape:
                raise invalid_argument(f"Tensor name: {name} has no shape information ")
            if batch is not None and shape[0] != batch:
                raise invalid_argument(
                    f"Tensor name: {name} has inconsistent batch size: {shape[0]} "
                    f"expecting: {batch}"
                )
            batch = shape[0]
        if len(names) == 1:
            doc = {"predictions": values[names[0]]}
        else:
            doc = {"predictions": [{n: values[n][i] for n in names} for i in range(batch or 0)]}
    if any(a.dtype.kind == "f" and not np.isfinite(a).all() for a in arrays.values()):
        # orjson writes NaN and Infinity as null; TF Serving writes the tokens.
        return json.dumps(plain(doc), separators=(",", ":"), allow_nan=True).encode()
    try:
        return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:  # e.g. a non-contiguous array: plain lists always work
        return json.dumps(plain(doc), separators=(",", ":")).encode()
