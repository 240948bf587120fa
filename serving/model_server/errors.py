"""TF Serving's error model: a canonical status code, its HTTP status, the ``{"error": ...}`` body.

TF Serving answers every failure with a ``tensorflow::Status``; ``http_server.cc``
(``ToHTTPStatusCode``) maps its code to the HTTP status, and the body is
``{"error": "<message>"}``. Keeping the same codes here lets a client (and our tests) treat
``rtrec serve-model`` and ``tensorflow_model_server`` alike: bad requests are 400, unknown
models and versions 404, a full batching queue 503, and only our own bugs 500.
"""

from __future__ import annotations

import orjson

# tensorflow/core/protobuf/error_codes.proto name -> HTTP status, as in http_server.cc.
HTTP_STATUS = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ServingError(Exception):
    """A request failed with a TF Serving status ``code`` (e.g. ``"INVALID_ARGUMENT"``)."""

    def __init__(self, code: str, message: str) -> None:
        if code not in HTTP_STATUS or code == "OK":
            raise ValueError(f"not a TF Serving error code: {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def body(self) -> bytes:
        """The JSON body TF Serving sends with the error."""
        return orjson.dumps({"error": self.message})


def invalid_argument(message: str) -> ServingError:
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message: str) -> ServingError:
    return ServingError("NOT_FOUND", message)


def from_tensorflow(error: Exception) -> ServingError:
    """The TF Serving status for an exception raised while running a signature.

    ``tf.errors.OpError`` carries its canonical code (a bad shape is INVALID_ARGUMENT, as in
    TF Serving); the Python-side binding errors of a concrete function (wrong rank or dtype
    against its input signature) are the caller's fault too, so they are INVALID_ARGUMENT.
    """
    import tensorflow as tf

    if isinstance(error, tf.errors.OpError):
        name = _code_name(error.error_code)
        return ServingError(name if name != "OK" else "UNKNOWN", error.message)
    if isinstance(error, (ValueError, TypeError)):
        return invalid_argument(str(error))
    return ServingError("UNKNOWN", f"{type(error).__name__}: {error}")


def _code_name(code: int) -> str:
    from tensorflow.core.protobuf import error_codes_pb2

    try:
        return error_codes_pb2.Code.Name(code)
    except ValueError:
        return "UNKNOWN"
