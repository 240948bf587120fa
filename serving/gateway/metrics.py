"""Prometheus metrics of the gateway (prometheus-client), and the timing middleware behind them.

Requests are counted and timed by route *template* (``/v1/users/{user_id}/recommendations``,
never the raw path, which would make one series per user) and status; model-server calls are
timed by signature; events are counted as accepted or by rejection reason. Each app has its own
registry, so several gateways in one process (tests) do not collide. The middleware also
answers every request with a ``Server-Timing`` header (``app`` total, ``model`` time spent in
model-server calls), which is how the benchmark separates the gateway's own overhead.
"""

from __future__ import annotations

import contextvars
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest

_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5,
            1.0, 2.5)  # fmt: skip
_model_seconds: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "model_seconds", default=None
)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "rtrec_gateway_requests_total", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "rtrec_gateway_request_seconds", "Time to answer, by route template and status.",
            ["route", "method", "status"], buckets=_BUCKETS, registry=r,
        )  # fmt: skip
        self.model_latency = Histogram(
            "rtrec_gateway_model_call_seconds", "Model-server calls by signature.",
            ["signature"], buckets=_BUCKETS, registry=r,
        )  # fmt: skip
        self.events = Counter(
            "rtrec_gateway_events_total",
            "Event rows by outcome: 'accepted' or the rejection reason code.",
            ["outcome"], registry=r,
        )  # fmt: skip

    def observe_model(self, signature: str, seconds: float) -> None:
        self.model_latency.labels(signature).observe(seconds)
        spent = _model_seconds.get()
        if spent is not None:
            spent.append(seconds)

    def count_events(self, outcome: str, n: int) -> None:
        if n:
            self.events.labels(outcome).inc(n)

    def render(self) -> tuple[bytes, str]:
        return _generate_latest(self.registry), CONTENT_TYPE_LATEST


class TimingMiddleware:
    """Pure ASGI middleware: counts, times and adds ``Server-Timing`` to every HTTP answer.

    Model calls run in worker threads that copy the request's context, so the list in the
    context variable collects their durations.
    """

    def __init__(self, app, metrics: GatewayMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        spent: list[float] = []
        token = _model_seconds.set(spent)
        status = {"code": 500}

        async def timed_send(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                total = (time.perf_counter() - start) * 1000
                timing = f"app;dur={total:.3f}, model;dur={sum(spent) * 1000:.3f}"
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"server-timing", timing.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _model_seconds.reset(token)
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            labels = (template, scope.get("method", ""), str(status["code"]))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - start)
