"""``ModelServer``: the REST API on uvloop and httptools."""

from __future__ import annotations

import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def test_the_rest_api_runs_on_uvloop_and_httptools(base_path, serve):
    server = serve(model_name="toy", model_base_path=str(base_path))
    assert isinstance(server.loop, uvloop.Loop)
    assert server._server.config.http_protocol_class is HttpToolsProtocol
