"""``rtrec gateway``: the API under uvicorn, with its parts opened and closed around it.

One uvicorn worker per process: the catalog and version caches are per process, and replicas
scale out behind a load balancer sharing a Redis store. The access log is off (metrics count
every request; a log line per request costs more than the rest of a recommendation's own work).
What exists once the parts are open (modules, the app, its routes and models) is frozen out of
the garbage collector's full passes (``gc.freeze()``), which would otherwise walk it all again
every few thousand requests.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import uvicorn

from rtrec.config import RtrecConfig
from serving.gateway.app import create_app
from serving.gateway.service import Gateway
from serving.gateway.settings import Settings
from serving.gateway.store.factory import SQLITE_PREFIX

log = logging.getLogger("rtrec.gateway")


class TokenMissingError(RuntimeError):
    """No bearer token and no explicit ``--insecure``."""


def resolve_token(cfg: RtrecConfig, insecure: bool) -> str | None:
    """The write endpoints' token from ``gateway.token_env``; None only when ``insecure``."""
    token = os.environ.get(cfg.gateway.token_env, "")
    if insecure:
        log.warning(
            "--insecure: the write endpoints (POST /v1/events, POST /v1/items, DELETE "
            "/v1/users) accept requests WITHOUT a token; never expose this gateway"
        )
        return None
    if not token:
        raise TokenMissingError(
            f"{cfg.gateway.token_env} is not set: the gateway will not start with open write "
            f"endpoints. Export {cfg.gateway.token_env}=<a secret> (clients send 'Authorization: "
            "Bearer <it>'), or pass --insecure explicitly for a local trial"
        )
    return token


def serve(cfg: RtrecConfig, insecure: bool = False) -> None:
    """Open the gateway's parts, serve until interrupted, then close them."""
    settings = Settings.from_config(cfg, resolve_token(cfg, insecure))
    if cfg.gateway.store.startswith(SQLITE_PREFIX):  # the default's folder, on a first start
        Path(cfg.gateway.store[len(SQLITE_PREFIX) :]).parent.mkdir(parents=True, exist_ok=True)
    gateway = Gateway.open(settings)
    gw = cfg.gateway
    log.info(
        "rtrec gateway on http://%s:%d: model %s at %s, store %s, event log %s, arms %s",
        gw.host, gw.port, gw.model_name, gw.model_url, gw.store, gw.event_log,
        ", ".join(f"{a.name}={a.label}:{a.share:g}" for a in settings.experiment.arms),
    )  # fmt: skip
    app = create_app(gateway)
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(app, host=gw.host, port=gw.port, access_log=False, log_level="info")
    finally:
        gateway.close()
