"""``ModelServer``: the REST API on uvloop and httptools, the loaded models frozen out of the GC."""

from __future__ import annotations

import gc

import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def test_the_rest_api_runs_on_uvloop_and_httptools(base_path, serve):
    server = serve(model_name="toy", model_base_path=str(base_path))
    assert isinstance(server.loop, uvloop.Loop)
    assert server._server.config.http_protocol_class is HttpToolsProtocol


def test_what_the_load_created_is_frozen_out_of_the_collectors_passes(base_path, serve):
    frozen = gc.get_freeze_count()
    serve(model_name="toy", model_base_path=str(base_path))
    assert gc.get_freeze_count() > frozen
