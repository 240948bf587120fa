"""Parity: the history the gateway sends the model is the history ingestion builds from the same
events (funnels, sessions, duplicates, ties, clamped clocks, more steps than the model keeps)."""

from __future__ import annotations

import csv
import glob
import time
from pathlib import Path

import pytest

from rtrec import features as fk
from tests.serving.gateway.test_events import ev
from tests.tiny_model import item_id

GAP = 1800


def story(t0: float) -> list[list[dict]]:
    """Two batches of one user's events, the second partly older than the first."""
    first = [
        ev("pat", "lamp-1", t0, session_id="a"),
        ev("pat", "lamp-1", t0 + 5, "click", session_id="a"),
        ev("pat", "lamp-1", t0 + 9, "add_to_cart", session_id="a"),  # one funnel: add_to_cart
        ev("pat", "lamp-2", t0 + 20, session_id="a"),
        ev("pat", "lamp-1", t0 + 30, session_id="a"),  # lamp-1 again: a new interaction
        ev("pat", "", t0 + 40, "search", query="tent", session_id="a"),
        ev("pat", "tent-3", t0 + 45, session_id="a"),
        ev("pat", "kettle-1", t0 + GAP + 100),  # an inactivity gap: a new session
        ev("pat", "kettle-1", t0 + GAP + 130, "purchase", value=30),
    ]
    second = [
        ev("pat", "kettle-1", t0 + GAP + 100),  # an exact duplicate
        ev("pat", "tent-5", t0 + GAP + 200, "click"),  # equal times: the view comes first
        ev("pat", "tent-5", t0 + GAP + 200),
        ev("pat", "novel-2", t0 + GAP + 300, session_id="b"),
        ev("pat", "novel-2", t0 + GAP + 310, session_id="c"),  # a new session id: two steps
        ev("pat", "lamp-9", t0 + 15, session_id="a"),  # late arrival inside the first session
        ev("pat", "novel-3", time.time() + 120),  # a fast client clock: clamped to now
    ]
    return [first, second]


def sent_history(client, gw, user: str) -> tuple[list, list, list]:
    """What the gateway's next recommendation sends the model's ``recommend``."""
    seen = {}
    predict = gw.models.predict

    def spy(signature, inputs, version):
        if signature == fk.RECOMMEND:
            seen.update(inputs)
        return predict(signature, inputs, version)

    gw.models.predict = spy
    assert client.get(f"/v1/users/{user}/recommendations").status_code == 200
    gw.models.predict = predict
    ids = seen[fk.HISTORY_ITEM_IDS][0]
    return ids, seen[fk.HISTORY_EVENT_TYPES][0], seen[fk.HISTORY_TIMESTAMPS][0]


def post_story(client) -> float:
    t0 = time.time() - 2 * 86_400
    reasons = []
    for batch in story(t0):
        answer = client.post("/v1/events", json={"events": batch}).json()
        reasons.append([r["reason"] for r in answer["rejected"]])
    assert reasons == [[], ["duplicate"]]
    return t0


def ingested_history(events: str, items: str, root: Path, probe_at: float) -> dict:
    """Run the Beam ingestion graph on ``events`` plus a later probe; the probe's example."""
    import apache_beam as beam
    import tensorflow as tf
    from apache_beam.options.pipeline_options import PipelineOptions

    from components.ingestion.component import run_ingestion
    from rtrec.config import LOCAL_BEAM_ARGS, IngestionConfig

    out = root / "ingested"
    uris = [str(out / name) for name in ("examples", "catalog", "dead", "report")]
    cfg = IngestionConfig(now=str(probe_at + 60), eval_cutoff=str(probe_at - 1))
    pipeline = beam.Pipeline(options=PipelineOptions(LOCAL_BEAM_ARGS))
    report = run_ingestion(events, items, cfg, 5, pipeline, *uris)
    assert report["reconciled"]["events"]
    assert report["events"]["rejected_total"] == 0  # what the gateway accepted, ingestion does
    assert report["events"]["duplicates_removed"] == 0 and report["items"]["rejected_total"] == 0
    files = glob.glob(str(out / "examples" / "Split-*" / "*.gz"))
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy()).features.feature
        if example[fk.TIMESTAMP].int64_list.value[0] == int(probe_at):
            return {
                key: list(getattr(example[key], example[key].WhichOneof("kind")).value)
                for key in (fk.HISTORY_ITEM_IDS, fk.HISTORY_EVENT_TYPES, fk.HISTORY_TIMESTAMPS)
            }
    raise AssertionError("the probe's example is missing")


def test_served_history_is_the_last_steps_ingestion_would_build(make_gateway, store_url) -> None:
    client, gw = make_gateway(store_url)
    t0 = post_story(client)
    ids, types, stamps = sent_history(client, gw, "pat")
    assert ids == ["kettle-1", "tent-5", "novel-2", "novel-2", "novel-3"]  # history_length 5
    assert types == ["purchase", "click", "view", "view", "view"]
    assert stamps[:4] == [int(t0 + GAP + s) for s in (100, 200, 300, 310)]


@pytest.mark.slow
def test_parity_with_the_beam_ingestion_of_the_gateways_own_log(
    make_gateway, tmp_path: Path
) -> None:
    client, gw = make_gateway(f"sqlite:///{tmp_path / 'gw.db'}")
    t0 = post_story(client)
    added = {"item_id": "lamp-added", "title": "acme lamp model 11", "category": "Home|lamp"}
    assert client.post("/v1/items", json={"items": [added]}).json()["accepted"] == 1
    late = ev("pat", "lamp-added", t0 + GAP + 250, "add_to_cart")
    assert client.post("/v1/events", json={"events": [late]}).json()["accepted"] == 1
    sent = sent_history(client, gw, "pat")
    assert "lamp-added" in sent[0]
    items = tmp_path / "log" / "items" / "catalog.csv"  # the catalog beside the added items
    with open(items, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "title"])
        writer.writerows([item_id(t, j), f"item {t} {j}"] for t in range(4) for j in range(10))
    probe_at = time.time() + 5
    probe = tmp_path / "log" / "events" / "probe.csv"
    probe.write_text(f"user_id,item_id,event_type,timestamp\npat,tent-0,view,{probe_at}\n")
    history = ingested_history(str(tmp_path / "log" / "events"), str(items.parent), tmp_path,
                               probe_at)  # fmt: skip
    assert b"" not in history[fk.HISTORY_ITEM_IDS]  # a full history: nothing padded
    assert [x.decode() for x in history[fk.HISTORY_ITEM_IDS]] == sent[0]
    assert [x.decode() for x in history[fk.HISTORY_EVENT_TYPES]] == sent[1]
    assert history[fk.HISTORY_TIMESTAMPS] == sent[2]
