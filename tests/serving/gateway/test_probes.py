"""/healthz, /readyz and /metrics: what an orchestrator and Prometheus read."""

from __future__ import annotations

import time

from tests.serving.gateway.test_events import ev


def test_health_and_readiness(make_gateway, store_url) -> None:
    client, _ = make_gateway(store_url)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model_server": "ok", "store": "ok"}
    down, _ = make_gateway(store_url, model_url="http://127.0.0.1:9")  # nothing listens there
    answer = down.get("/readyz")
    assert answer.status_code == 503 and answer.json()["store"] == "ok"
    assert answer.json()["model_server"].startswith(
        "model server unreachable at http://127.0.0.1:9"
    )
    assert down.get("/healthz").status_code == 200


def test_metrics_count_routes_by_template_models_by_signature_and_events_by_outcome(api) -> None:
    api.post("/v1/events", json={"events": [ev("mo", "lamp-1", time.time()),
                                            ev("mo", "??", time.time())]})  # fmt: skip
    for user in ("mo", "ned"):
        answer = api.get(f"/v1/users/{user}/recommendations", params={"k": 3})
        assert "model;dur=" in answer.headers["server-timing"]
    api.get("/v1/users/ned/recommendations", params={"k": 0})
    text = api.get("/metrics").text
    route = 'route="/v1/users/{user_id}/recommendations"'
    assert f'rtrec_gateway_requests_total{{method="GET",{route},status="200"}} 2.0' in text
    assert f'rtrec_gateway_requests_total{{method="GET",{route},status="422"}} 1.0' in text
    assert f'rtrec_gateway_request_seconds_count{{method="GET",{route},status="200"}} 2.0' in text
    assert 'rtrec_gateway_model_call_seconds_count{signature="recommend"} 2.0' in text
    assert 'rtrec_gateway_events_total{outcome="accepted"} 1.0' in text
    assert 'rtrec_gateway_events_total{outcome="unknown_item"} 1.0' in text
    assert "/v1/users/mo" not in text  # one series per route, not per user
