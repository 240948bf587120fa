"""One loaded SavedModel version: its signatures, their defs, runs, and warm-up replay.

The SavedModel is loaded with ``tf.saved_model.load`` after ``import tensorflow_text`` (the
rtrec export tokenizes with TF Text ops, which must be registered before the graph loads) and
run through ``signatures[name]``, the same concrete functions TF Serving's session runs. The
signature defs reported by ``/metadata`` are read from ``saved_model.pb`` itself, so they are
exactly what TF Serving would print. A version replays
``assets.extra/tf_serving_warmup_requests`` before it is declared AVAILABLE, like TF Serving's
``saved_model_warmup_util``: a failing record fails the load.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from google.protobuf.message import DecodeError

from serving.model_server.errors import ServingError, from_tensorflow, invalid_argument
from serving.model_server.tensors import NUMPY_DTYPES, InputSpec

if TYPE_CHECKING:
    from serving.model_server.batching import Batcher

SERVE_TAG = "serve"
DEFAULT_SIGNATURE = "serving_default"
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000  # WarmupConsts::kMaxNumRecords


class Servable:
    """A SavedModel version ready to run; ``inflight`` counts requests still using it."""

    def __init__(self, model_name: str, version: int, path: str) -> None:
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the TF Text ops the graph uses)
        from tensorflow.core.protobuf import saved_model_pb2

        self.model_name = model_name
        self.version = version
        self.path = path
        proto_path = os.path.join(path, "saved_model.pb")
        if not os.path.exists(proto_path):
            raise ServingError(
                "NOT_FOUND",
                f"Could not find SavedModel .pb at supplied export directory path: {path}",
            )
        proto = saved_model_pb2.SavedModel()
        with open(proto_path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Not all data was converted"
            try:
                proto.ParseFromString(handle.read())
            except DecodeError:
                proto.Clear()
        if not proto.meta_graphs:
            raise ServingError(
                "DATA_LOSS", f"{proto_path} is not a SavedModel (corrupt, or still copying)"
            )
        graphs = [g for g in proto.meta_graphs if SERVE_TAG in g.meta_info_def.tags]
        if not graphs:
            raise ServingError("NOT_FOUND", f"{path}: no MetaGraph tagged {SERVE_TAG!r}")
        self.signature_defs = dict(graphs[0].signature_def)
        self._module = tf.saved_model.load(path, tags=[SERVE_TAG])
        self._functions = dict(self._module.signatures)
        self.input_specs = {
            name: _input_specs(self.signature_defs[name]) for name in self._functions
        }
        self._lock = threading.Condition()
        self._inflight = 0
        self.batchers: dict[str, Batcher] = {}  # created by the core, closed here

    @property
    def module(self) -> object:
        """The loaded SavedModel object (tests read its variables)."""
        return self._module

    def signature_inputs(self, signature_name: str) -> Mapping[str, InputSpec]:
        """Input specs of a signature ('' is the default), or TF Serving's 400 if unknown."""
        name = signature_name or DEFAULT_SIGNATURE
        if name not in self._functions:
            raise invalid_argument(f'Serving signature name: "{name}" not found in signature def')
        return self.input_specs[name]

    def run(self, signature_name: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one signature on numpy inputs; TF errors become TF Serving statuses."""
        import tensorflow as tf

        name = signature_name or DEFAULT_SIGNATURE
        self.check_inputs(name, inputs)
        try:
            outputs = self._functions[name](**{k: tf.constant(v) for k, v in inputs.items()})
        except (tf.errors.OpError, ValueError, TypeError) as error:
            raise from_tensorflow(error) from None
        return {key: value.numpy() for key, value in outputs.items()}

    def check_inputs(self, signature_name: str, inputs: Mapping[str, np.ndarray]) -> None:
        """Raise TF Serving's 400 unless ``inputs`` fit the signature (names, dtypes, shapes)."""
        name = signature_name or DEFAULT_SIGNATURE
        _check_inputs(name, self.signature_inputs(name), inputs)

    def warm_up(self, iterations: int = 1) -> int:
        """Replay the version's warm-up records; the number of records replayed."""
        import tensorflow as tf
        from tensorflow_serving.apis import prediction_log_pb2

        path = os.path.join(self.path, WARMUP_FILE)
        if not os.path.exists(path):
            return 0
        count = 0
        try:
            records = [r.numpy() for r in tf.data.TFRecordDataset(path)]
        except tf.errors.OpError as error:
            raise ServingError(
                "DATA_LOSS",
                f"{error.message}. Please verify your warmup data is in TFRecord format.",
            ) from None
        for record in records:
            count += 1
            if count > MAX_WARMUP_RECORDS:
                raise invalid_argument(
                    f"Number of warmup records exceeds the maximum ({MAX_WARMUP_RECORDS}) at {path}"
                )
            log = prediction_log_pb2.PredictionLog()
            log.ParseFromString(record)
            kind = log.WhichOneof("log_type")
            if kind != "predict_log":
                raise invalid_argument(
                    f"warm-up record {count} of {path} is a {kind}; rtrec serve-model replays "
                    "predict_log records only (its models have predict signatures only)"
                )
            request = log.predict_log.request
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            for _ in range(max(iterations, 1)):
                self.run(request.model_spec.signature_name, inputs)
        return count

    def acquire(self) -> None:
        with self._lock:
            self._inflight += 1

    def release(self) -> None:
        with self._lock:
            self._inflight -= 1
            if self._inflight == 0:
                self._lock.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no request uses this version (before it is unloaded)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._inflight == 0, timeout)

    def close(self) -> None:
        """Stop this version's batchers and drop the model (after :meth:`wait_idle`)."""
        for batcher in self.batchers.values():
            batcher.close()
        self.batchers.clear()
        self._functions.clear()
        self._module = None


def _input_specs(signature_def) -> dict[str, InputSpec]:
    from tensorflow.python.framework import dtypes

    specs = {}
    for name, info in signature_def.inputs.items():
        dtype = dtypes.as_dtype(info.dtype).name
        dtype = {"float32": "float", "float64": "double"}.get(dtype, dtype)
        shape = info.tensor_shape
        dims = None
        if not shape.unknown_rank:
            dims = tuple(d.size if d.size >= 0 else None for d in shape.dim)
        specs[name] = InputSpec(name, dtype, dims)
    return specs


def _check_inputs(signature: str, specs: Mapping[str, InputSpec], inputs: Mapping) -> None:
    """Names, dtypes and shapes against the signature, so the graph never sees a misfit.

    TF Serving passes misshapen tensors to the session and reports whatever the graph says;
    checking first gives the same 400 with a message that names the input and the signature.
    """
    missing, extra = set(specs) - set(inputs), set(inputs) - set(specs)
    if missing or extra:
        raise invalid_argument(
            f"input size does not match signature {signature!r}: missing {sorted(missing)}, "
            f"unexpected {sorted(extra)}; expected inputs {sorted(specs)}"
        )
    for name, spec in specs.items():
        array = inputs[name]
        want = NUMPY_DTYPES.get(spec.dtype)
        if want is not None and np.dtype(want) != array.dtype:
            raise invalid_argument(
                f"input {name!r} of signature {signature!r} must be {spec.dtype}, got {array.dtype}"
            )
        if spec.shape is None:
            continue
        ok = len(spec.shape) == array.ndim and all(
            d is None or d == s for d, s in zip(spec.shape, array.shape)
        )
        if not ok:
            want_shape = "[" + ",".join("?" if d is None else str(d) for d in spec.shape) + "]"
            raise invalid_argument(
                f"input {name!r} of signature {signature!r} has shape "
                f"[{','.join(map(str, array.shape))}] but the signature expects {want_shape}"
            )
