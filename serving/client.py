"""A typed client of TF Serving's REST API (``tensorflow_model_server`` or ``rtrec serve-model``).

urllib3's connection pool (keep-alive, TCP_NODELAY, a timeout on every call); tenacity retries
with exponential backoff (and jitter) on connection errors and 5xx answers, never on 4xx, which
are the caller's to fix. Errors carry the HTTP status and the server's ``error`` message; a
server that cannot be reached is a :class:`ModelServerUnreachableError`, whatever the transport
said. Routing by version (``version=3``) or label (``label="canary"``). Nothing is read from
flags or the environment: every setting is an argument.

urllib3 rather than httpx because this client sits on the gateway's hot path (one or two calls
per recommendation), and a keep-alive predict costs its caller about a third less CPU with
urllib3 (measured in ``docs/experiments.md``, "Gateway under load").
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import urllib3
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from urllib3.exceptions import HTTPError as TransportError

JsonTensors = Mapping[str, Any] | list | np.ndarray
_HEADERS = {"Content-Type": "application/json"}


class ModelServerError(Exception):
    """The server answered with an error: ``status`` (HTTP) and its ``error`` ``message``."""

    def __init__(self, status: int, message: str, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}: {message}")
        self.status = status
        self.message = message
        self.url = url

    @property
    def retryable(self) -> bool:
        return self.status >= 500


class ModelServerUnreachableError(Exception):
    """No HTTP answer at all: refused, reset, timed out, or a broken response."""

    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__(f"no answer from {url}: {cause}")
        self.url = url


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ModelServerError):
        return error.retryable
    return isinstance(error, ModelServerUnreachableError)


class ModelClient:
    """Calls one model's REST API; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        model_name: str,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.05,
        max_backoff: float = 2.0,
        max_connections: int = 32,
        pool: urllib3.HTTPConnectionPool | None = None,
    ) -> None:
        """``retries`` extra attempts after the first, waiting ``backoff`` * 2^n (capped).
        At most ``max_connections`` connections (kept alive); further concurrent calls wait
        for one, within their timeout. ``pool`` replaces the connection pool (tests)."""
        self.model_name = model_name
        self.base_url = base_url.rstrip("/")
        self._prefix = urllib3.util.parse_url(self.base_url).path or ""
        self._timeout = timeout
        # urllib3's connections set TCP_NODELAY: a small POST is not held back by Nagle.
        self._pool = pool or urllib3.connection_from_url(
            self.base_url, maxsize=max_connections, block=True, retries=False
        )
        self._retrying = Retrying(  # tenacity keeps each call's state per thread: shareable
            stop=stop_after_attempt(retries + 1),
            wait=wait_exponential_jitter(initial=backoff, max=max_backoff, jitter=backoff),
            retry=retry_if_exception(_retryable),
            reraise=True,
        )

    def _path(self, version: int | None, label: str | None) -> str:
        if version is not None and label is not None:
            raise ValueError(f"give a version or a label, not both ({version}, {label!r})")
        path = f"/v1/models/{self.model_name}"
        if version is not None:
            path += f"/versions/{int(version)}"
        elif label is not None:
            path += f"/labels/{label}"
        return path

    def status(self, version: int | None = None, label: str | None = None) -> list[dict]:
        """``model_version_status`` rows: ``version``, ``state``, ``status.error_code``..."""
        return self._call("GET", self._path(version, label))["model_version_status"]

    def metadata(self, version: int | None = None, label: str | None = None) -> dict:
        """``model_spec`` and ``metadata.signature_def.signature_def`` of the served version."""
        return self._call("GET", self._path(version, label) + "/metadata")

    def predict(
        self,
        inputs: JsonTensors | None = None,
        instances: list | np.ndarray | None = None,
        signature_name: str | None = None,
        version: int | None = None,
        label: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Run a signature: ``inputs`` (columnar, returns ``outputs``) or ``instances`` (rows,
        returns ``predictions``). Numpy arrays are fine; bytes go as ``{"b64": ...}``."""
        if (inputs is None) == (instances is None):
            raise ValueError("give exactly one of inputs (columnar) or instances (row format)")
        body: dict[str, Any] = {}
        if signature_name:
            body["signature_name"] = signature_name
        key = "inputs" if inputs is not None else "instances"
        body[key] = _jsonable(inputs if inputs is not None else instances)
        path = self._path(version, label) + ":predict"
        answer = self._call("POST", path, orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
                            timeout)  # fmt: skip
        return answer["outputs" if key == "inputs" else "predictions"]

    def wait_until_available(
        self, version: int | None = None, timeout: float = 60.0, poll: float = 0.1
    ) -> int:
        """Block until ``version`` (else any version) is AVAILABLE; the version number."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                for row in self.status(version):
                    if row["state"] == "AVAILABLE":
                        return int(row["version"])
            except (ModelServerError, ModelServerUnreachableError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"model {self.model_name} version {version or 'any'} not AVAILABLE after "
                    f"{timeout}s; check the server log and the status API"
                )
            time.sleep(poll)

    def _call(self, method: str, path: str, body: bytes | None = None,
              timeout: float | None = None) -> Any:  # fmt: skip
        return self._retrying(self._once, method, self._prefix + path, body, timeout)

    def _once(self, method: str, path: str, body: bytes | None, timeout: float | None) -> Any:
        seconds = self._timeout if timeout is None else timeout
        try:
            response = self._pool.urlopen(
                method, path, body=body, headers=_HEADERS, timeout=urllib3.Timeout(total=seconds),
                pool_timeout=seconds, retries=False, redirect=False, preload_content=True,
            )  # fmt: skip
        except TransportError as error:
            raise ModelServerUnreachableError(self.base_url + path, error) from error
        payload = _loads(response.data)
        if response.status != 200:
            message = payload.get("error") if isinstance(payload, dict) else None
            text = response.data.decode("utf-8", errors="replace")
            raise ModelServerError(response.status, message or text, self.base_url + path)
        return payload

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _loads(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        try:  # TF Serving writes NaN/Infinity tokens, which only the stdlib reads
            return json.loads(content)
        except ValueError:
            return {"error": content.decode("utf-8", errors="replace")}


def _jsonable(value: Any) -> Any:
    """What orjson can write, with bytes as TF Serving's ``{"b64": ...}`` objects."""
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return value
        return _jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    if isinstance(value, np.generic):
        return value.item()
    return value
