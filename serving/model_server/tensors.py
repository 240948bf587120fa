"""JSON values <-> numpy arrays with TF Serving's typing rules (``util/json_tensor.cc``).

Written by hand because no library speaks this format: nested lists as dense tensors, the
``{"b64": ...}`` form of binary strings, rapidjson's number typing (``IsInt``, lossless floats)
and TF Serving's ``_bytes`` output rule. Well-formed values take a vectorised numpy path; only
a value that fails it is walked leaf by leaf, to find and name the offending value in the words
TF Serving uses, so a client sees the same message from either server.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from serving.model_server.errors import ServingError, invalid_argument

_ERROR_VALUE_CHARS = 200  # TF Serving prints whole values; long ones are cut here


@dataclass(frozen=True)
class InputSpec:
    """One signature input: its TF dtype name (``"float"``, ``"string"``...) and numpy dtype."""

    name: str
    dtype: str
    shape: tuple[int | None, ...] | None  # None: unknown rank


# TF dtype name -> numpy dtype; the names are DataTypeString() values used in messages.
NUMPY_DTYPES: dict[str, Any] = {
    "float": np.float32,
    "double": np.float64,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "bool": np.bool_,
    "string": object,
}
_INT_RANGE = {  # what rapidjson's IsInt/IsInt64/IsUint/IsUint64 accept for each dtype
    "int8": (-(2**31), 2**31 - 1),
    "int16": (-(2**31), 2**31 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint8": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_FLOAT_LIMITS = {"float": (2**24 - 1, float(np.finfo(np.float32).max)), "double": (2**53 - 1, None)}
_LEAF_TYPES = {name: {int} for name in _INT_RANGE}
_LEAF_TYPES.update({"float": {int, float}, "double": {int, float}, "bool": {bool}, "string": {str}})


def to_array(value: Any, dtype: str) -> np.ndarray:
    """One JSON value (scalar or nested lists) as a dense array of TF dtype ``dtype``."""
    if dtype not in NUMPY_DTYPES:
        raise ServingError(
            "UNIMPLEMENTED", f"Conversion of JSON Value: {show(value)} to type: {dtype}"
        )
    fast = _fast_array(value, dtype)
    if fast is not None:
        return fast
    shape = _dense_shape(value)
    flat: list = []
    _fill(value, 0, shape, dtype, flat)
    if dtype == "string":
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(shape)
    return np.asarray(flat, dtype=NUMPY_DTYPES[dtype]).reshape(shape)


def _fast_array(value: Any, dtype: str) -> np.ndarray | None:
    """The array by numpy alone when the JSON is dense and well typed, else None.

    numpy would quietly turn ``["a", 1]`` into strings and ``[1, true]`` into numbers, so the
    leaves' Python types are checked first (one C-level pass); the range checks mirror
    rapidjson's ``IsInt``/``IsInt64`` and TF Serving's lossless-float rule.
    """
    try:
        raw = np.asarray(value)
    except (ValueError, OverflowError):  # ragged lists, or ints past 64 bits
        return None
    if raw.dtype.kind == "O":
        return None
    if raw.size == 0:
        return np.empty(raw.shape, dtype=NUMPY_DTYPES[dtype])
    leaves = _leaves(value, raw.ndim)
    if not set(map(type, leaves)) <= _LEAF_TYPES[dtype]:
        return None
    if dtype == "string":
        flat = np.empty(len(leaves), dtype=object)
        flat[:] = [s.encode() for s in leaves]
        return flat.reshape(raw.shape)
    if dtype == "bool":
        return raw
    if dtype in _FLOAT_LIMITS:
        max_int, max_float = _FLOAT_LIMITS[dtype]
        if raw.dtype.kind in "iu" and (raw.max() > max_int or raw.min() < -max_int):
            return None
        if raw.dtype.kind == "f" and max_float is not None:
            finite = raw[np.isfinite(raw)]
            if finite.size and np.abs(finite).max() > max_float:
                return None
        return raw.astype(NUMPY_DTYPES[dtype], copy=False)
    low, high = _INT_RANGE[dtype]
    if raw.min() < low or raw.max() > high:
        return None
    return raw.astype(NUMPY_DTYPES[dtype], copy=False)


def _leaves(value: Any, depth: int) -> list:
    """The leaves of a dense nested list of depth ``depth``, in row-major order."""
    if depth == 0:
        return [value]
    items = value
    for _ in range(depth - 1):
        items = list(chain.from_iterable(items))
    return items


def _dense_shape(value: Any) -> tuple[int, ...]:
    """The shape TF Serving infers: the length of each first element, down the nesting."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def _fill(value: Any, level: int, shape: tuple[int, ...], dtype: str, out: list) -> None:
    """Walk ``value`` as TF Serving's FillTensorProto does, appending leaves to ``out``."""
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise invalid_argument(
                f"JSON Value: {show(value)} found at incorrect level: {level + 1} in the JSON "
                f"DOM. Expected at level: {rank}"
            )
        out.append(_leaf(value, dtype))
        return
    if level >= rank:
        raise invalid_argument(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise invalid_argument(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected "
            f"size: {shape[level]}"
        )
    for item in value:
        _fill(item, level + 1, shape, dtype, out)


def _leaf(value: Any, dtype: str) -> Any:
    if isinstance(value, dict):
        if dtype != "string":
            raise _type_error(value, dtype)
        if not is_b64(value):
            raise invalid_argument(
                f"JSON Value: {show(value)} not formatted correctly for base64 data"
            )
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, ValueError):
            raise invalid_argument("Unable to base64 decode") from None
    if dtype == "string":
        if not isinstance(value, str):
            raise _type_error(value, dtype)
        return value.encode()
    if dtype == "bool":
        if not isinstance(value, bool):
            raise _type_error(value, dtype)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(value, dtype)
    if dtype in _FLOAT_LIMITS:
        max_int, max_float = _FLOAT_LIMITS[dtype]
        lossy = (
            abs(value) > max_int
            if isinstance(value, int)
            else max_float is not None and math.isfinite(value) and abs(value) > max_float
        )
        if lossy:
            raise invalid_argument(
                f"Cannot convert JSON value: {show(value)} to {dtype} without loss of precision."
            )
        return value
    low, high = _INT_RANGE[dtype]
    if not isinstance(value, int) or not low <= value <= high:
        raise _type_error(value, dtype)
    return value


def _type_error(value: Any, dtype: str) -> ServingError:
    return invalid_argument(
        f"JSON Value: {show(value)} Type: {_json_type(value)} is not of expected type: {dtype}"
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def is_named_object(value: Any) -> bool:
    return isinstance(value, dict) and not is_b64(value)


def show(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= _ERROR_VALUE_CHARS else text[:_ERROR_VALUE_CHARS] + "..."


def shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def json_ready(name: str, array: np.ndarray) -> Any:
    """What orjson can write: numeric arrays as they are, strings as (nested) lists."""
    if array.dtype.kind in "OSU":
        as_bytes = name.endswith("_bytes")  # TF Serving's rule for binary string outputs
        flat = [_string_out(s, as_bytes) for s in array.ravel().tolist()]
        return _nest(flat, array.shape)
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        return array.astype(np.float32)
    return array


def _string_out(value: Any, as_bytes: bool) -> Any:
    raw = value if isinstance(value, bytes) else str(value).encode()
    if as_bytes:
        return {"b64": base64.b64encode(raw).decode()}
    return raw.decode("utf-8", errors="replace")


def _nest(flat: list, shape: tuple[int, ...]) -> Any:
    if not shape:
        return flat[0]
    if 0 in shape:
        return np.empty(shape).tolist()
    for size in reversed(shape[1:]):
        flat = [flat[i : i + size] for i in range(0, len(flat), size)]
    return flat


def plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
