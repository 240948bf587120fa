"""The pipeline graph and the end-to-end local run on the tiny sample world."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from cli.main import main
from cli.run_summary import load_summary
from pipeline import local_runner
from pipeline.pipeline import STAGES, create_pipeline
from rtrec import config as config_lib
from rtrec.data.world import generate_world, write_world

NOW = "ingestion.now=2025-07-01T00:00:00Z"


def _graph(stop_after: str = "pusher", **extra):
    return create_pipeline(
        pipeline_name="t",
        pipeline_root="/tmp/unused",
        events="e.csv",
        items="i.csv",
        ingestion_config_json="{}",
        history_length=5,
        preprocessing_fn="trainer.preprocessing.preprocessing_fn",
        transform_config={},
        beam_pipeline_args=["--runner=DirectRunner"],
        stop_after=stop_after,
        **extra,
    )


def test_create_pipeline_wires_components_in_order():
    ids = [c.id for c in _graph("pusher").components]
    assert ids[0] == "EventIngestion" and ids[-1] == "Pusher"
    assert set(ids) == {
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
    }
    assert [c.id for c in _graph("trainer").components][-1] == "RtrecTrainer"
    assert [c.id for c in _graph("ingestion").components] == ["EventIngestion"]
    with pytest.raises(ValueError, match="stop_after"):
        _graph("nonsense")
    assert STAGES[-1] == "pusher"


@pytest.mark.parametrize("kind", ["docker", "kubernetes"])
def test_infra_validation_gates_the_pusher_when_enabled(kind):
    graph = _graph(infra_validation=kind, serving_image_tag="2.16.1-gpu")
    by_id = {c.id: c for c in graph.components}
    assert [c.id for c in graph.components][-1] == "Pusher"
    infra = by_id["InfraValidator"]
    assert "2.16.1-gpu" in str(infra.exec_properties["serving_spec"])
    assert "infra_blessing" in by_id["Pusher"].inputs
    with pytest.raises(ValueError, match="infra_validation"):
        create_pipeline("t", "/tmp/u", "e", "i", "{}", 5, "m.f", {}, [], infra_validation="podman")


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

    from rtrec import features as fk
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


def _run(tmp_path, paths, *overrides):
    cfg = config_lib.load(
        None,
        [
            f"events={paths['events']}",
            f"items={paths['items']}",
            f"output_dir={tmp_path}/run",
            f"evaluation.serving_root={tmp_path}/serving",
            NOW,
            "trainer.hparams.encoder=tiny",
            f"trainer.embedding_cache_dir={tmp_path}/cache",
            *overrides,
        ],
    )
    local_runner.run(cfg)
    return cfg, load_summary(cfg.metadata_path)


def _versions(tmp_path) -> list[str]:
    folder = tmp_path / "serving" / "rtrec"
    return sorted(os.listdir(folder)) if folder.exists() else []


@pytest.mark.e2e
@pytest.mark.slow
def test_pipeline_trains_blesses_pushes_and_blocks_regressions(tmp_path):
    """Three runs on the tiny world in one metadata store, as in production.

    1. An untrained model fails the value thresholds: NOT blessed, nothing pushed. (Without
       the affinity columns: with them an untrained model already ranks by the user's
       categories and passes these bounds on the tiny world.)
    2. A trained model beats popularity, is blessed and pushed.
    3. A worse model (one epoch, no affinity columns) passes the (removed) value bounds but
       fails the change threshold against run 2's model: NOT blessed, and the serving folder
       still holds only run 2's version.
    """
    import json

    world = generate_world("tiny", 0)
    paths = write_world(world, str(tmp_path / "data"), "parquet")
    bounds = "evaluation.min_values={recall@10: 0.15, F1@10: 0.027}"
    good = "trainer.hparams={epochs: 20, embedding_dim: 32, batch_size: 128}"

    plain = "category_affinity: false, word_affinity: false"
    _, first = _run(tmp_path, paths, bounds, f"trainer.hparams={{epochs: 0, {plain}}}")
    assert not first.gate.blessed and first.pushed_to is None and _versions(tmp_path) == []
    assert {f.metric for f in first.gate.failures} >= {"recall@10", "F1@10"}

    _, second = _run(tmp_path, paths, bounds, good)
    assert all(second.report["reconciled"].values())
    assert set(second.anomalies) == {"train", "eval"}
    assert second.gate.blessed, [str(f) for f in second.gate.failures]
    assert second.pushed_to and len(_versions(tmp_path)) == 1
    run_dir = second.artifacts["ModelRun"]
    with open(os.path.join(run_dir, "training_report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    model_hr = report["eval"][-1]["all"]["HR@10"]
    from rtrec import features as fk
    from trainer.catalog import read_catalog_records

    items = read_catalog_records(second.artifacts["rtrec.ItemCatalog"])
    categorised = sum(bool(item[fk.ITEM_CATEGORIES]) for item in items)
    assert categorised > len(items) / 2, "the catalog artifact carries categories to the model"
    popularity_hr = _popularity_hr10(
        second.artifacts["Examples"], second.artifacts["rtrec.ItemCatalog"]
    )
    assert model_hr > 2 * popularity_hr, (model_hr, popularity_hr)
    overall = second.gate.metrics["overall"]["candidate"]
    assert abs(overall["recall@10"] - model_hr) < 0.02  # TFMA agrees with the trainer's eval
    pushed = _versions(tmp_path)

    _, third = _run(
        tmp_path,
        paths,
        "evaluation.min_values={}",
        "evaluation.min_cold_values={}",
        f"trainer.hparams={{epochs: 1, embedding_dim: 32, batch_size: 128, {plain}}}",
    )
    assert third.gate.has_baseline and not third.gate.blessed
    assert any(f.metric.endswith("(change)") for f in third.gate.failures)
    assert third.pushed_to is None and _versions(tmp_path) == pushed

    inspected = CliRunner().invoke(main, ["inspect", "--output-dir", f"{tmp_path}/run"])
    assert inspected.exit_code == 0, inspected.output
    assert "NOT BLESSED" in inspected.output and "(change)" in inspected.output
    assert "Reconciled" in inspected.output
    html_path = tmp_path / "report.html"
    reported = CliRunner().invoke(
        main, ["report", "--output-dir", f"{tmp_path}/run", "--out", str(html_path)]
    )
    assert reported.exit_code == 0, reported.output
    html = html_path.read_text()
    assert "NOT BLESSED" in html and "<table>" in html and "(change)" in html
    assert html.count("data:image/png;base64,") == 2
    assert "target_unseen_in_train=1" in html


def test_each_setting_has_one_home_that_every_stage_reads():
    from pipeline.configs import pipeline_kwargs
    from trainer.task import EVAL_KS, HPARAMS, SESSION_GAP_S

    cfg = config_lib.load(
        None,
        ["ingestion.session_gap_s=600", "trainer.hparams.history_length=20",
         "trainer.hparams.encoder=tiny", "evaluation.ks=[5, 20]"],
    )  # fmt: skip
    kwargs = pipeline_kwargs(cfg)
    trainer = kwargs["trainer_config"]
    # Ingestion pads to the model's history length; a visit for the model is an ingestion session.
    assert kwargs["history_length"] == trainer[HPARAMS]["history_length"] == 20
    assert trainer[SESSION_GAP_S] == 600.0 and trainer[EVAL_KS] == [5, 20]
    assert kwargs["encoder"] == trainer[HPARAMS]["encoder"] == "tiny"  # TextEmbedder = model
    for retired in ("ingestion.history_length=20", "transform.item_oov_buckets=3"):
        with pytest.raises(ValueError, match="unknown setting"):
            config_lib.load(None, [retired])


def test_a_typo_in_a_hyperparameter_fails_before_anything_runs(tmp_path):
    result = CliRunner().invoke(
        main,
        ["run", "--events", str(tmp_path / "e.csv"), "--items", str(tmp_path / "i.csv"),
         "--output-dir", str(tmp_path / "run"), "--set", "trainer.hparams.epoch=6"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "unknown hyperparameter(s) ['epoch']" in result.output and "'epochs'" in result.output
    assert not (tmp_path / "run").exists()
    bad_type = CliRunner().invoke(
        main, ["run", "--events", "e", "--items", "i", "--set", "trainer.hparams.epochs=many"]
    )
    assert bad_type.exit_code != 0 and "trainer.hparams.epochs must be int" in bad_type.output


def test_the_pusher_writes_under_the_run_s_output_dir_not_the_current_one(tmp_path, monkeypatch):
    from pipeline.configs import pipeline_kwargs

    monkeypatch.chdir(tmp_path)
    cfg = config_lib.load(None, ["output_dir=/data/runs/a"])
    assert pipeline_kwargs(cfg, os.path.abspath)["push_directory"] == "/data/runs/a/serving/rtrec"
    cfg = config_lib.load(None, ["evaluation.serving_root=/srv/models"])
    assert pipeline_kwargs(cfg)["push_directory"] == "/srv/models/rtrec"


def test_a_run_whose_ingestion_accepts_nothing_stops_there_with_the_reasons(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `rtrec run` records the last run under ./outputs
    (tmp_path / "e.csv").write_text(
        "user_id,item_id,event_type,timestamp\nu1,zz,view,1700000000\nu2,a,teleport,1700000000\n"
    )
    (tmp_path / "i.csv").write_text("item_id,title\na,A\n")
    out = tmp_path / "o"
    args = ["run", "--events", str(tmp_path / "e.csv"), "--items", str(tmp_path / "i.csv")]
    result = CliRunner().invoke(main, [*args, "--output-dir", str(out), "--set", NOW])
    assert result.exit_code == 1, result.output
    assert "accepted none of the 2 event rows" in result.output
    assert "bad_event_type 1" in result.output and "unknown_item 1" in result.output
    assert not (out / "pipeline" / "Transform").exists()


def test_warm_start_gives_the_trainer_the_latest_blessed_model():
    cold = {c.id: c for c in _graph().components}
    assert "base_model" not in cold["RtrecTrainer"].inputs
    warm = _graph(warm_start=True)
    ids = [c.id for c in warm.components]
    assert ids.index("LatestBlessedModelResolver") < ids.index("RtrecTrainer")
    by_id = {c.id: c for c in warm.components}
    assert "base_model" in by_id["RtrecTrainer"].inputs
    assert "baseline_model" in by_id["Evaluator"].inputs  # the same model is the gate's baseline


def test_drift_compares_this_runs_train_split_with_the_previous_runs():
    from pipeline.configs import drift_thresholds

    cfg = config_lib.load(None, ["drift.enabled=true", "drift.item_linf=0.1"])
    thresholds = drift_thresholds(cfg)
    assert thresholds == {"target_item_id": ("infinity_norm", 0.1),
                          "target_category": ("jensen_shannon_divergence", 0.05)}  # fmt: skip
    assert drift_thresholds(config_lib.load(None, [])) is None
    graph = _graph(drift_thresholds=thresholds)
    ids = [c.id for c in graph.components]
    # Resolved before this run's statistics exist: ingestion waits for it.
    assert ids.index("PreviousStatisticsResolver") < ids.index("EventIngestion")
    validator = {c.id: c for c in graph.components}["DistributionValidator"]
    config = str(validator.exec_properties["distribution_validator_config"])
    assert "target_item_id" in config and "infinity_norm" in config and "0.1" in config
    assert "jensen_shannon_divergence" in config
    assert "DistributionValidator" not in [c.id for c in _graph().components]
