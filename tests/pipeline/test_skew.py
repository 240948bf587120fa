"""The training/serving skew check on the gateway's logged requests."""

from __future__ import annotations

import json

import pytest

from pipeline.skew import check_skew, read_requests, serving_statistics
from rtrec import features as fk


def _row(items, types):
    return {fk.HISTORY_ITEM_IDS: items, fk.HISTORY_EVENT_TYPES: types,
            fk.HISTORY_TIMESTAMPS: [1] * len(items), fk.NOW: 2}  # fmt: skip


TRAINED = [_row(["a", "b", "c"], ["view", "view", "click"])] * 50 + [_row(["b", "d"], ["view"] * 2)]


@pytest.fixture
def run(tmp_path):
    """A training split's statistics and schema laid out as StatisticsGen and SchemaGen do."""
    import tensorflow_data_validation as tfdv

    stats = serving_statistics(TRAINED)
    (tmp_path / "stats" / "Split-train").mkdir(parents=True)
    (tmp_path / "stats" / "Split-train" / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    (tmp_path / "schema").mkdir()
    tfdv.write_schema_text(tfdv.infer_schema(stats), str(tmp_path / "schema" / "schema.pbtxt"))
    return tmp_path


def _log(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (folder / "requests-host-1.jsonl").write_text(text + '{"cut by a cra')  # a torn last line
    return str(folder.parent)


def test_served_histories_like_the_training_ones_raise_nothing(run):
    served = read_requests(_log(run / "log" / "span=1", TRAINED[:20] + [_row([""], [""])]))
    assert len(served) == 21  # the torn line is skipped, the empty history is kept
    summary = check_skew(str(run / "stats"), str(run / "schema"), served, 0.1, str(run / "out"))
    assert summary["anomalies"] == {} and summary["requests"] == 21
    assert max(summary["distances"].values()) < 0.1
    assert (run / "out" / "Split-serving" / "SchemaDiff.pb").exists()


def test_a_client_sending_other_event_types_is_reported_as_skew(run):
    served = read_requests(_log(run / "log" / "span=1", [_row(["a", "b"], ["tap", "tap"])] * 20))
    summary = check_skew(str(run / "stats"), str(run / "schema"), served, 0.1, str(run / "out"))
    assert fk.HISTORY_EVENT_TYPES in summary["anomalies"]
    assert summary["distances"][fk.HISTORY_EVENT_TYPES] > 0.5
    saved = json.loads((run / "out" / "skew.json").read_text())
    assert saved["anomalies"] == summary["anomalies"]


def test_no_logged_requests_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no logged requests"):
        read_requests(str(tmp_path))
