"""schemathesis over /openapi.json: generated requests, valid and invalid, never get a 5xx, and
every answer matches the documented schema, status codes and content types.

The operations' Hypothesis strategies are driven from one test (``as_strategy``), since the app
needs the session's model server: schemathesis 4.30's lazy pytest fixtures do not run under
pytest 9. The summary (cases by operation, mode and status) is printed with ``-s``.
"""

from __future__ import annotations

import collections
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.serving.gateway.conftest import TOKEN, gateway_config

EXAMPLES = int(os.environ.get("RTREC_SCHEMA_EXAMPLES", "50"))
"""Examples per operation and mode: bounded so the run stays well under two minutes."""


@pytest.fixture
def gateway_schema(model_server, tmp_path):
    from serving.gateway.app import create_app
    from serving.gateway.service import Gateway
    from serving.gateway.settings import Settings

    cfg = gateway_config(model_server.url, tmp_path, f"sqlite:///{tmp_path}/gw.db")
    gateway = Gateway.open(Settings.from_config(cfg, TOKEN))
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(gateway))
    gateway.close()


def _fuzz(operation, mode: GenerationMode, summary: collections.Counter) -> None:
    """EXAMPLES generated requests of one operation and mode, each validated by schemathesis."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case) -> None:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})
        summary[(operation.label, mode.value, response.status_code)] += 1
        assert response.status_code < 500, response.text

    try:
        run()
    except Unsatisfiable:  # no parameter or body to break (GET /healthz, say)
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.slow
def test_the_api_meets_its_own_schema(gateway_schema) -> None:
    summary: collections.Counter = collections.Counter()
    operations = [result.ok() for result in gateway_schema.get_all_operations()]
    assert len(operations) == 8  # events, recommendations, search, items, forget, 3 probes
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, summary)
    lines = {f"{op} [{mode}] -> {status}": n for (op, mode, status), n in sorted(summary.items())}
    print("\nschemathesis:", sum(summary.values()), "cases", json.dumps(lines, indent=1))
    assert not any(status >= 500 for _, _, status in summary)
