"""Refuse oversized request bodies with 413 before reading them (pure ASGI middleware).

A declared ``Content-Length`` over the limit is refused at once; a chunked body is counted as
it streams and refused when it passes the limit. Either way the endpoint never runs, so nothing
is written. FastAPI has no body limit of its own and uvicorn's only bounds headers.
"""

from __future__ import annotations

import json


class BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def _refuse(self, send, size: str) -> None:
        detail = (
            f"request body {size} exceeds the gateway's limit of {self.max_bytes} bytes "
            "(gateway.max_body_bytes): split it into smaller batches"
        )
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(send, f"of {declared} bytes")
                    return
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLargeError:
            if not started:
                await self._refuse(send, f"of more than {self.max_bytes} bytes")
