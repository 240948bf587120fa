"""The pipeline graph and the end-to-end local run on the tiny sample world."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from pipeline import local_runner
from pipeline.pipeline import STAGES, create_pipeline
from rtrec import config as config_lib
from rtrec.cli import main
from rtrec.data.world import generate_world, write_world
from rtrec.run_summary import load_summary

NOW = "ingestion.now=2025-07-01T00:00:00Z"


def _graph(stop_after: str):
    return create_pipeline(
        pipeline_name="t",
        pipeline_root="/tmp/unused",
        events="e.csv",
        items="i.csv",
        ingestion_config_json="{}",
        preprocessing_fn="trainer.preprocessing.preprocessing_fn",
        transform_config={},
        beam_pipeline_args=["--runner=DirectRunner"],
        stop_after=stop_after,
    )


def test_create_pipeline_wires_components_in_order():
    ids = [c.id for c in _graph("pusher").components]
    assert ids == [
        "EventIngestion",
        "StatisticsGen",
        "SchemaGen",
        "ExampleValidator",
        "Transform",
        "TextEmbedder",
        "RtrecTrainer",
        "LatestBlessedModelResolver",
        "Evaluator",
        "Pusher",
    ]
    assert [c.id for c in _graph("trainer").components][-1] == "RtrecTrainer"
    assert [c.id for c in _graph("ingestion").components] == ["EventIngestion"]
    with pytest.raises(ValueError, match="stop_after"):
        _graph("nonsense")
    assert STAGES[-1] == "pusher"


def test_missing_columns_fail_before_anything_is_written(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("user_id,item_id\nu1,a\n")
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\na,A\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["run", "--events", str(events), "--items", str(items), "--output-dir", str(out)]
    )
    assert result.exit_code != 0
    assert "['event_type', 'timestamp']" in result.output
    assert not out.exists()


def test_empty_input_is_a_clear_cli_error(tmp_path):
    (tmp_path / "e.csv").write_text("user_id,item_id,event_type,timestamp\n")
    (tmp_path / "i.csv").write_text("item_id,title\na,A\n")
    args = ["run", "--events", str(tmp_path / "e.csv"), "--items", str(tmp_path / "i.csv")]
    result = CliRunner().invoke(main, [*args, "--output-dir", str(tmp_path / "o")])
    assert result.exit_code != 0 and "holds no data rows" in result.output


def _popularity_hr10(examples_uri: str, catalog_uri: str) -> float:
    """HR@10 of 'most trained items, history excluded' on the eval split."""
    import glob

    import tensorflow as tf

    from trainer import features as fk
    from trainer.catalog import read_catalog_records

    items = read_catalog_records(catalog_uri)
    popular = [r[fk.ITEM_ID] for r in sorted(items, key=lambda r: -r[fk.ITEM_TRAIN_COUNT])]
    files = glob.glob(os.path.join(examples_uri, "Split-eval", "*"))
    hits = total = 0
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        feature = tf.train.Example.FromString(record).features.feature
        history = {v.decode() for v in feature[fk.HISTORY_ITEM_IDS].bytes_list.value}
        target = feature[fk.TARGET_ITEM_ID].bytes_list.value[0].decode()
        hits += target in [i for i in popular if i not in history][:10]
        total += 1
    return hits / total


@pytest.mark.e2e
@pytest.mark.slow
def test_local_run_through_trainer_on_the_tiny_world(tmp_path):
    import json

    world = generate_world("tiny", 0)
    paths = write_world(world, str(tmp_path / "data"), "parquet")
    cfg = config_lib.load(
        None,
        [
            f"events={paths['events']}",
            f"items={paths['items']}",
            f"output_dir={tmp_path}/run",
            NOW,
            "trainer.encoder=tiny",
            "trainer.embedding_cache_dir=''",
            "trainer.hparams={epochs: 6, embedding_dim: 32, batch_size: 128}",
        ],
    )
    local_runner.run(cfg)
    summary = load_summary(cfg.metadata_path)
    assert summary.report["events"]["rows_in"] == world.manifest["n_event_rows"]
    assert all(summary.report["reconciled"].values())
    assert set(summary.anomalies) == {"train", "eval"}
    graph = summary.artifacts["TransformGraph"]
    vocab = os.path.join(graph, "transform_fn", "assets", "item_id")
    with open(vocab, encoding="utf-8") as handle:
        items = [line.strip() for line in handle]
    assert 0 < len(items) <= world.manifest["n_items"] and "" not in items

    run_dir = summary.artifacts["ModelRun"]
    with open(os.path.join(run_dir, "training_report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    model_hr = report["eval"][-1]["all"]["HR@10"]
    popularity_hr = _popularity_hr10(
        summary.artifacts["Examples"], summary.artifacts["rtrec.ItemCatalog"]
    )
    assert model_hr > 1.5 * popularity_hr, (model_hr, popularity_hr)
    serving = os.path.join(summary.artifacts["Model"], "Format-Serving")
    assert os.path.exists(os.path.join(serving, "saved_model.pb"))
