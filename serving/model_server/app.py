"""The HTTP layer of ``rtrec serve-model``: TF Serving's REST routes on Starlette.

Routing uses TF Serving's own regular expressions (``http_rest_api_util.cc``) on the whole
path, because its URLs put the method after a colon (``/v1/models/rtrec/labels/canary:predict``)
and answer unmatched ``/v1/`` paths with a 400 "Malformed request": typed routes (FastAPI) would
shrink to one catch-all route, and the JSON is not pydantic-shaped, so plain Starlette fits.
Model work runs in a thread pool of ``--rest_api_num_threads`` (TF Serving's executor), under
``--rest_api_timeout_in_ms``; bodies over ``--max_body_bytes`` get a 413 before being read whole.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable

import anyio
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from serving.model_server.core import ServerCore
from serving.model_server.errors import ServingError, invalid_argument
from serving.model_server.metrics import ServerMetrics
from serving.model_server.options import DEFAULT_MAX_BODY_BYTES

log = logging.getLogger(__name__)

PATH_REGEX = re.compile(r"/v1/.*", re.IGNORECASE)
PREDICTION_API_REGEX = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.IGNORECASE,
)
MODEL_STATUS_API_REGEX = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE,
)
_INT64_MAX = 2**63 - 1


class BodyTooLargeError(Exception):
    """The request body is over ``--max_body_bytes``."""


def create_app(
    core: ServerCore,
    metrics: ServerMetrics,
    metrics_path: str | None,
    num_threads: int = 4 * (os.cpu_count() or 1),
    timeout_ms: int = 30_000,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Starlette:
    """The ASGI app serving ``core``'s models on TF Serving's REST paths."""
    limiter = anyio.CapacityLimiter(num_threads)

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        route, status, body = "not_found", 404, b""
        content_type = "application/json"
        path = request.url.path
        try:
            if metrics_path is not None and path == metrics_path and request.method == "GET":
                route, status, body = "metrics", 200, metrics.page()
                content_type = metrics.content_type
            elif PATH_REGEX.fullmatch(path):
                route, call = _dispatch(core, request.method, path)
                payload = await _read_body(request, max_body_bytes) if call.needs_body else b""
                with anyio.fail_after(timeout_ms / 1000 if timeout_ms > 0 else None):
                    body = await anyio.to_thread.run_sync(
                        call, payload, limiter=limiter, abandon_on_cancel=True
                    )
                status = 200
            else:
                body = orjson.dumps(
                    {"error": f"Not found: {path}. This server answers /v1/models/... (TF "
                     f"Serving's REST API) and {metrics_path or 'no metrics path'}."}
                )  # fmt: skip
        except ServingError as error:
            status, body = error.http_status, error.body()
        except BodyTooLargeError as error:
            status, body = 413, orjson.dumps({"error": str(error)})
        except TimeoutError:
            status = 504
            body = orjson.dumps(
                {"error": f"Request exceeded --rest_api_timeout_in_ms={timeout_ms} ms"}
            )
        except Exception:  # a bug of ours: logged, answered 500, the server keeps running
            log.exception("internal error on %s %s", request.method, path)
            status, body = 500, orjson.dumps({"error": "Internal error; see the server log"})
        metrics.observe_request(route, request.method, status, time.perf_counter() - started)
        return Response(body, status_code=status, media_type=content_type)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


class _Call:
    """One API call, ready to run in the thread pool once the body is read."""

    def __init__(self, run: Callable[[bytes], bytes], needs_body: bool) -> None:
        self._run = run
        self.needs_body = needs_body

    def __call__(self, body: bytes) -> bytes:
        return self._run(body)


def _dispatch(core: ServerCore, method: str, path: str) -> tuple[str, _Call]:
    """TF Serving's ``ParseModelInfo`` + ``ProcessRequest``: which API, model and version."""
    malformed = invalid_argument(f"Malformed request: {method} {path}")
    if method == "POST":
        match = PREDICTION_API_REGEX.fullmatch(path)
        if match is None:
            raise malformed
        name, version_text, label, api = match.groups()
        version = _version(version_text)
        if api == "predict":
            return "predict", _Call(lambda b: core.predict(name, version, label, b), True)
        if api in ("classify", "regress"):
            call = _Call(lambda b: core.classify_or_regress(api, name, version, label, b), True)
            return api, call
        raise malformed  # the regex ignores case; TF Serving's method names do not
    if method == "GET":
        match = MODEL_STATUS_API_REGEX.fullmatch(path)
        if match is None:
            raise malformed
        name, version_text, label, subresource = match.groups()
        version = _version(version_text)
        if not name:
            raise invalid_argument("Missing model name in request.")
        if subresource == "metadata":
            return "metadata", _Call(lambda _: core.metadata(name, version, label), False)
        return "status", _Call(lambda _: core.status(name, version, label), False)
    raise malformed


def _version(text: str | None) -> int | None:
    if not text:
        return None
    if int(text) > _INT64_MAX:
        raise invalid_argument(f"Failed to convert version: {text} to numeric.")
    return int(text)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(_too_large(int(declared), limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(_too_large(size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> str:
    return (
        f"Request body of {size} bytes is over the limit of {limit} bytes (--max_body_bytes); "
        "send fewer rows per request, or raise the limit."
    )
