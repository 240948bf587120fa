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
    ids = [c.id for c in _graph("trainer").components]
    assert ids == [
        "EventIngestion",
        "StatisticsGen",
        "SchemaGen",
        "ExampleValidator",
        "Transform",
        "TextEmbedder",
        "RtrecTrainer",
    ]
    assert [c.id for c in _graph("ingestion").components] == ["EventIngestion"]
    with pytest.raises(ValueError, match="stop_after"):
        _graph("nonsense")
    assert STAGES[-1] == "trainer"


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


@pytest.mark.e2e
@pytest.mark.slow
def test_local_run_through_transform_on_the_tiny_world(tmp_path):
    world = generate_world("tiny", 0)
    paths = write_world(world, str(tmp_path / "data"), "parquet")
    cfg = config_lib.load(
        None,
        [f"events={paths['events']}", f"items={paths['items']}", f"output_dir={tmp_path}/run", NOW],
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
    assert os.path.isdir(os.path.join(graph, "transformed_metadata"))
