"""The gateway's HTTP API (FastAPI): events in, recommendations and search out, items, forget.

FastAPI because the API is typed end to end: pydantic models (``schemas.py``) validate every
body and parameter, refuse what does not fit with a 422 naming the field, and become the
OpenAPI document at ``/openapi.json`` that schemathesis tests. Endpoints are plain functions,
which FastAPI runs in its thread pool: the store and model clients are synchronous.

Status codes: 400 a body that is not even text; 401/403 missing or wrong token on write
endpoints; 413 a body over ``gateway.max_body_bytes``; 422 a body or parameter that does not fit
the schema, or a batch over ``gateway.max_batch_events`` / ``max_batch_items`` (refused whole,
nothing written); 503 the model server or the store unreachable
(``{"detail": "model server unreachable at URL: ..."}``); 502 the model server refused a
request the gateway built. Row-level rejections of a valid batch are in the 200 answer (see
``schemas.py``).
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from rtrec import features as fk
from serving.gateway.auth import token_check
from serving.gateway.event_log import EventLogError
from serving.gateway.limits import BodyLimitMiddleware
from serving.gateway.metrics import TimingMiddleware
from serving.gateway.models import ModelRequestError, ModelUnavailableError
from serving.gateway.schemas import (
    ID_CHARS,
    EventBatch,
    EventsAccepted,
    Forgotten,
    Health,
    ItemBatch,
    ItemsAccepted,
    Readiness,
    Recommendations,
    SearchResults,
)
from serving.gateway.service import Gateway
from serving.gateway.store import StoreError, StoreUnavailableError

log = logging.getLogger(__name__)
UserId = Path(min_length=1, max_length=ID_CHARS, description="The product's user id (raw).")
_ERRORS = {
    400: {"description": "A body that cannot be parsed at all (not UTF-8 text)."},
    401: {"description": "Missing bearer token."},
    403: {"description": "Wrong bearer token."},
    413: {"description": "Body over gateway.max_body_bytes."},
    503: {"description": "Model server or store unreachable."},
}
_READ_ERRORS = {503: _ERRORS[503]}


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def create_app(gateway: Gateway) -> FastAPI:
    """The API over ``gateway``'s parts; closing the gateway is the caller's."""
    s = gateway.settings
    cfg = s.gateway
    write = [Depends(token_check(s.token))]
    app = FastAPI(
        title="rtrec gateway",
        version="1",
        description="Real-time recommendations: events in, fresh recommendations out.",
    )
    app.state.gateway = gateway

    @app.exception_handler(ModelUnavailableError)
    def _model_down(_: Request, error: ModelUnavailableError) -> JSONResponse:
        return _error(503, str(error))

    @app.exception_handler(ModelRequestError)
    def _model_refused(_: Request, error: ModelRequestError) -> JSONResponse:
        return _error(502, str(error))

    @app.exception_handler(StoreUnavailableError)
    def _store_down(_: Request, error: StoreUnavailableError) -> JSONResponse:
        return _error(503, f"online store unavailable: {error}")

    @app.exception_handler(StoreError)
    def _store_error(_: Request, error: StoreError) -> JSONResponse:
        return _error(503, f"online store error: {error}")

    @app.exception_handler(EventLogError)
    def _log_error(_: Request, error: EventLogError) -> JSONResponse:
        return _error(503, str(error))

    @app.post("/v1/events", response_model=EventsAccepted, dependencies=write,
              responses=_ERRORS)  # fmt: skip
    def post_events(batch: EventBatch) -> EventsAccepted:
        """Validate events by ingestion's rules; log (fsync) and apply the accepted ones.

        Rows that break a rule are listed in ``rejected`` (index, reason code) and written
        nowhere; the others are appended to the event log and to the users' histories, so the
        next recommendation reflects them. A batch over ``max_batch_events`` is a 422.
        """
        if len(batch.events) > cfg.max_batch_events:
            raise HTTPException(
                422,
                f"{len(batch.events)} events in one batch; at most {cfg.max_batch_events} "
                "(gateway.max_batch_events): split the batch",
            )
        result = gateway.events.apply(batch.events)
        return EventsAccepted(**vars(result))

    @app.get("/v1/users/{user_id}/recommendations", response_model=Recommendations,
             responses=_READ_ERRORS)  # fmt: skip
    def recommendations(
        user_id: str = UserId,
        k: int = Query(10, ge=1, le=fk.MAX_K),
        exclude_seen: bool = Query(True, description="Leave out items in the history."),
        diversity: float = Query(0.0, ge=0.0, le=1.0, description="MMR weight on novelty."),
    ) -> Recommendations:
        """Top-k items for the user's freshest history, each with a reason."""
        return gateway.recommender.recommend(user_id, k, exclude_seen, diversity)

    @app.get("/v1/search", response_model=SearchResults, responses=_READ_ERRORS)
    def search(
        q: str = Query(min_length=1, max_length=s.max_text_chars),
        user_id: str = Query("", max_length=ID_CHARS, description="'' for an anonymous search."),
        k: int = Query(10, ge=1, le=fk.MAX_K),
    ) -> SearchResults:
        """Personalized search: the query and the user's history (the ``search`` signature)."""
        if not q.strip():
            raise HTTPException(422, "q is blank: give the search text")
        return gateway.recommender.search(q, user_id, k)

    @app.post("/v1/items", response_model=ItemsAccepted, dependencies=write, responses=_ERRORS)
    def post_items(batch: ItemBatch) -> ItemsAccepted:
        """Add items: embedded by the model (``embed_items``), recommendable at once."""
        if len(batch.items) > cfg.max_batch_items:
            raise HTTPException(
                422,
                f"{len(batch.items)} items in one batch; at most {cfg.max_batch_items} "
                "(gateway.max_batch_items): split the batch",
            )
        versions = gateway.versions()
        accepted, rejected = gateway.added.add(
            batch.items, versions, gateway.event_log, s.max_text_chars
        )
        return ItemsAccepted(accepted=accepted, rejected=rejected, model_versions=versions)

    @app.delete("/v1/users/{user_id}", response_model=Forgotten, dependencies=write,
                responses=_ERRORS)  # fmt: skip
    def forget_user(user_id: str = UserId) -> Forgotten:
        """Forget the user: history deleted, a tombstone makes ingestion drop their events."""
        return Forgotten(user_id=user_id, had_history=gateway.forget(user_id))

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        """The process answers."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    def readyz(response: Response) -> Readiness:
        """The model server and the store both answer."""
        parts = {}
        for name, ping in (("model_server", gateway.models.ping), ("store", gateway.store.ping)):
            try:
                ping()
                parts[name] = "ok"
            except (ModelUnavailableError, StoreError) as error:
                parts[name] = str(error)
        ready = all(v == "ok" for v in parts.values())
        response.status_code = 200 if ready else 503
        return Readiness(status="ready" if ready else "not ready", **parts)

    @app.get("/metrics", response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})  # fmt: skip
    def metrics() -> Response:
        """Prometheus metrics."""
        body, content_type = gateway.metrics.render()
        return Response(body, media_type=content_type)

    app.add_middleware(BodyLimitMiddleware, max_bytes=cfg.max_body_bytes)
    app.add_middleware(TimingMiddleware, metrics=gateway.metrics)  # outermost: counts 413s too
    return app
