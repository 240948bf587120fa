"""Prometheus metrics of ``rtrec serve-model`` (prometheus-client), one registry per server.

Request counts and latency by route and HTTP status (bounded labels: the route is the API
called, never the raw path), predict calls by model/version/signature, batch sizes, warm-up
replays and version states, served in the text format at TF Serving's path
``/monitoring/prometheus/metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from serving.model_server.models import AVAILABLE, END, LOADING, START, UNLOADING, VersionState

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
_STATES = (START, LOADING, AVAILABLE, UNLOADING, END)


class ServerMetrics:
    """The metric families; a fresh registry so several servers can live in one process."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rtrec_serving_requests",
            "HTTP requests answered, by API route, method and HTTP status code.",
            ["route", "method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rtrec_serving_request_latency_seconds",
            "Wall time from the request's arrival to its response, by API route and status.",
            ["route", "code"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "rtrec_serving_predict_requests",
            "Predict calls that reached a model, by model, version, signature and status code.",
            ["model", "version", "signature", "code"],
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "rtrec_serving_batch_size",
            "Rows per executed server-side batch (with --enable_batching).",
            ["model", "signature"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.batch_tasks = Histogram(
            "rtrec_serving_batch_requests",
            "Requests merged into each executed server-side batch.",
            ["model", "signature"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.warmup = Counter(
            "rtrec_serving_warmup_records",
            "Warm-up records replayed before a version became AVAILABLE.",
            ["model", "version"],
            registry=self.registry,
        )
        self.version_state = Gauge(
            "rtrec_serving_model_version_state",
            "1 for the state each known model version is in (START ... END).",
            ["model", "version", "state"],
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, code: int, seconds: float) -> None:
        self.requests.labels(route, method, str(code)).inc()
        self.latency.labels(route, str(code)).observe(seconds)

    def observe_state(self, model: str, state: VersionState) -> None:
        for name in _STATES:
            value = 1.0 if name == state.state else 0.0
            self.version_state.labels(model, str(state.version), name).set(value)

    def page(self) -> bytes:
        return generate_latest(self.registry)
