"""The server's model-facing half (TF Serving's ServerCore): models, polling, and the REST APIs.

Each method answers one TF Serving REST API with the JSON bytes TF Serving would send, or
raises a :class:`ServingError` carrying TF Serving's status. Status and metadata are written by
protobuf's ``json_format`` from TF Serving's own response protos, as TF Serving writes them
(all primitive fields printed; metadata with proto field names). The HTTP layer
(:mod:`serving.model_server.app`) only routes, reads bodies and times requests.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import numpy as np
import orjson
from google.protobuf import json_format
from tensorflow.core.protobuf import error_codes_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2
from tensorflow_serving.config import model_server_config_pb2

from serving.model_server.batching import Batcher, BatchingOptions, batch_inputs
from serving.model_server.errors import ServingError, invalid_argument, not_found
from serving.model_server.models import ModelManager, VersionState
from serving.model_server.predict_json import dumps_predict, loads, parse_predict
from serving.model_server.servable import DEFAULT_SIGNATURE, Servable
from serving.tfserving.configs import validate_model_server_config

log = logging.getLogger(__name__)
_METHOD_NAMES = {"classify": "tensorflow/serving/classify", "regress": "tensorflow/serving/regress"}


class ServerCore:
    """Every configured model, its versions, and the optional batching of its predict calls."""

    def __init__(
        self,
        config: model_server_config_pb2.ModelServerConfig,
        batching: BatchingOptions | None = None,
        enable_warmup: bool = True,
        warmup_iterations: int = 1,
        on_state: Callable[[str, VersionState], None] = lambda model, state: None,
        on_batch: Callable[[str, str, int, int], None] = lambda m, s, rows, tasks: None,
        on_warmup: Callable[[str, int, int], None] = lambda model, version, records: None,
        on_predict: Callable[[str, str, str, int], None] = lambda m, v, s, code: None,
    ) -> None:
        self.batching = batching
        self._enable_warmup = enable_warmup
        self._warmup_iterations = warmup_iterations
        self._on_state, self._on_batch = on_state, on_batch
        self._on_warmup, self._on_predict = on_warmup, on_predict
        self._lock = threading.Lock()
        self._managers: dict[str, ModelManager] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.reload_config(config)

    # -- models and polling -------------------------------------------------------------

    def reload_config(self, config: model_server_config_pb2.ModelServerConfig) -> None:
        """Serve the models of ``config``: new ones added, changed ones updated, others dropped."""
        validate_model_server_config(config)
        wanted = {m.name: m for m in config.model_config_list.config}
        with self._lock:
            dropped = [self._managers.pop(n) for n in list(self._managers) if n not in wanted]
            for name, model in wanted.items():
                if name in self._managers:
                    self._managers[name].update_config(model)
                else:
                    self._managers[name] = ModelManager(model, self._load, self._on_state)
        for manager in dropped:
            manager.close()

    def _load(self, model: str, version: int, path: str) -> Servable:
        servable = Servable(model, version, path)
        if self._enable_warmup:
            records = servable.warm_up(self._warmup_iterations)
            self._on_warmup(model, version, records)
        return servable

    def poll(self) -> None:
        """One pass over every model's base path (load new versions, unload old ones)."""
        with self._lock:
            managers = list(self._managers.values())
        for manager in managers:
            manager.poll()

    def start_polling(
        self,
        poll_seconds: float,
        config_loader: Callable[[], model_server_config_pb2.ModelServerConfig] | None = None,
        config_poll_seconds: float = 0,
    ) -> None:
        """Poll base paths every ``poll_seconds`` (0: never again), and reload the config."""
        if poll_seconds > 0:
            self._spawn(self.poll, poll_seconds)
        if config_loader is not None and config_poll_seconds > 0:
            self._spawn(lambda: self.reload_config(config_loader()), config_poll_seconds)

    def _spawn(self, step: Callable[[], None], seconds: float) -> None:
        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    step()
                except Exception:  # a failed poll is logged and retried, never fatal
                    log.exception("poll failed; retrying in %.1fs", seconds)

        thread = threading.Thread(target=loop, name="model-poller", daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        """Stop polling and unload every model."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            manager.close()

    def manager(self, name: str) -> ModelManager | None:
        with self._lock:
            return self._managers.get(name)

    # -- the REST APIs ------------------------------------------------------------------

    def status(self, name: str, version: int | None, label: str | None) -> bytes:
        """``GET /v1/models/{name}[/versions/{v}|/labels/{l}]`` (GetModelStatus)."""
        manager = self.manager(name)
        if manager is None:
            if label is not None:
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            if version is not None:
                raise not_found(f"Could not find version {version} of model {name}")
            raise not_found(f"Could not find any versions of model {name}")
        response = get_model_status_pb2.GetModelStatusResponse()
        for row in manager.status(version, label):
            status = response.model_version_status.add(version=row.version)
            status.state = get_model_status_pb2.ModelVersionStatus.State.Value(row.state)
            status.status.error_code = _error_code(row.error_code)
            status.status.error_message = row.error_message
        return json_format.MessageToJson(response, including_default_value_fields=True).encode()

    def metadata(self, name: str, version: int | None, label: str | None) -> bytes:
        """``GET .../metadata`` (GetModelMetadata with the ``signature_def`` field)."""
        with self._acquire(name, version, label) as servable:
            spec = model_pb2.ModelSpec(name=name)
            spec.version.value = servable.version
            signatures = get_model_metadata_pb2.SignatureDefMap()
            for key, signature_def in servable.signature_defs.items():
                signatures.signature_def[key].CopyFrom(signature_def)
        options = {"including_default_value_fields": True, "preserving_proto_field_name": True}
        doc = {
            "model_spec": json_format.MessageToDict(spec, **options),
            "metadata": {"signature_def": json_format.MessageToDict(signatures, **options)},
        }
        return orjson.dumps(doc)

    def predict(self, name: str, version: int | None, label: str | None, body: bytes) -> bytes:
        """``POST ...:predict`` in the row or the columnar format."""
        doc = loads(body)
        with contextlib.ExitStack() as stack:
            held: list[Servable] = []

            def inputs_of(signature: str):
                servable = stack.enter_context(self._acquire(name, version, label))
                held.append(servable)
                return servable.signature_inputs(signature)

            request = parse_predict(doc, inputs_of)
            servable = held[0]
            signature = request.signature_name or DEFAULT_SIGNATURE
            try:
                outputs = self._run(servable, signature, request.inputs)
            except ServingError as error:
                self._on_predict(name, str(servable.version), signature, error.http_status)
                raise
            self._on_predict(name, str(servable.version), signature, 200)
        return dumps_predict(outputs, request.format)

    def classify_or_regress(
        self, method: str, name: str, version: int | None, label: str | None, body: bytes
    ) -> bytes:
        """``POST ...:classify|:regress``: our models have predict signatures only, so a 400."""
        doc = loads(body)
        if not isinstance(doc, dict):
            raise invalid_argument("JSON Value: the request body Is not object")
        with self._acquire(name, version, label) as servable:
            signature = doc.get("signature_name") or DEFAULT_SIGNATURE
            signature_def = servable.signature_defs.get(signature)
            if signature_def is None:
                raise invalid_argument(f"No signature was found with name: {signature}")
            expected = _METHOD_NAMES[method]
            if signature_def.method_name != expected:
                raise invalid_argument(
                    f"Expected {method} signature method_name to be {expected}. Was: "
                    f"{signature_def.method_name}. rtrec models have predict signatures only: "
                    "POST .../models/{name}:predict instead."
                )
        raise ServingError(
            "UNIMPLEMENTED", f"rtrec serve-model implements :predict only, not :{method}"
        )

    @contextlib.contextmanager
    def _acquire(self, name: str, version: int | None, label: str | None):
        manager = self.manager(name)
        if manager is None:
            if label is not None:
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            request = f"Latest({name})" if version is None else f"Specific({name}, {version})"
            raise not_found(f"Servable not found for request: {request}")
        with manager.acquire(version, label) as servable:
            yield servable

    def _run(self, servable: Servable, signature: str, inputs: dict[str, np.ndarray]) -> dict:
        if self.batching is None:
            return servable.run(signature, inputs)
        batched = batch_inputs(servable.signature_inputs(signature))
        if not batched:
            return servable.run(signature, inputs)
        servable.check_inputs(signature, inputs)  # a misfit fails alone, not its whole batch
        with self._lock:
            batcher = servable.batchers.get(signature)
            if batcher is None:
                batcher = Batcher(
                    lambda merged: servable.run(signature, merged),
                    batched,
                    self.batching,
                    lambda rows, tasks: self._on_batch(servable.model_name, signature, rows, tasks),
                )
                servable.batchers[signature] = batcher
        return batcher.submit(inputs)


def _error_code(name: str) -> int:
    return error_codes_pb2.Code.Value(name)
