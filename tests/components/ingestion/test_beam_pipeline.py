"""The Beam ingestion graph on the tiny sample world: reconciliation, formats, leakage."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import threading

import apache_beam as beam
import pytest
import tensorflow as tf
from apache_beam.options.pipeline_options import PipelineOptions

from components.ingestion.component import run_ingestion
from rtrec import features as fk
from rtrec.config import LOCAL_BEAM_ARGS, IngestionConfig
from rtrec.data.world import generate_world, write_world

NOW = "2025-07-01T00:00:00Z"


@pytest.fixture(scope="module")
def world():
    return generate_world("tiny", 0)


def _ingest(world, fmt: str, root: str, beam_args=LOCAL_BEAM_ARGS) -> tuple[dict, str]:
    paths = write_world(world, os.path.join(root, "data"), fmt)
    out = os.path.join(root, "out")
    uris = [os.path.join(out, name) for name in ("examples", "catalog", "dead", "report")]
    pipeline = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    cfg = IngestionConfig(now=NOW)
    report = run_ingestion(paths["events"], paths["items"], cfg, 50, pipeline, *uris)
    return report, out


@pytest.fixture(scope="module")
def csv_run(world, tmp_path_factory):
    return _ingest(world, "csv", str(tmp_path_factory.mktemp("csv")))


def _examples(out: str, split: str) -> list[tf.train.Example]:
    files = sorted(glob.glob(os.path.join(out, "examples", f"Split-{split}", "*.gz")))
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [tf.train.Example.FromString(r.numpy()) for r in records]


def _values(example: tf.train.Example, key: str) -> list:
    feature = example.features.feature[key]
    return list(getattr(feature, feature.WhichOneof("kind")).value)


def _canonical(example: tf.train.Example) -> tuple:
    """Examples as sorted (key, values) pairs: proto map order is not stable when serialized."""
    return tuple(sorted((k, tuple(_values(example, k))) for k in example.features.feature))


def test_counts_reconcile_with_the_planted_dirt(world, csv_run):
    report, _ = csv_run
    events, dirt = report["events"], world.manifest["dirt"]
    assert report["reconciled"] == {"events": True, "items": True}
    assert events["rows_in"] == world.manifest["n_event_rows"]
    assert events["rows_in"] == (
        events["accepted"]
        + sum(events["rejected"].values())
        + events["duplicates_removed"]
        + events["bot_filtered"]
    )
    for reason in (
        "missing_user_id",
        "bad_event_type",
        "bad_timestamp",
        "bad_value",
        "missing_query",
        "unknown_item",
        "future_timestamp",
    ):
        assert events["rejected"].get(reason, 0) == dirt[reason], reason
    assert events["duplicates_removed"] == dirt["duplicates"]
    assert events["bot_users"] == dirt["bot_users"]
    assert events["bot_filtered"] == dirt["bot_events"]
    assert events["accepted"] == world.manifest["n_clean_events"]
    items = report["items"]
    assert items["rejected"] == {"empty_title": dirt["empty_title_items"]}
    assert items["duplicates_removed"] == dirt["duplicate_item_rows"]
    assert items["truncated_text"] == dirt["oversized_text_items"]


def test_dead_letter_holds_every_rejected_row_with_reason(csv_run):
    report, out = csv_run
    lines = []
    for path in glob.glob(os.path.join(out, "dead", "*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            lines += [json.loads(line) for line in handle]
    event_rejects = [x for x in lines if not x["reason"].startswith("item:")]
    assert len(event_rejects) == report["events"]["rejected_total"]
    assert all(x["source"].endswith("events.csv") and x["line"] > 1 for x in event_rejects)


def test_no_leakage_and_split_by_cutoff(csv_run):
    report, out = csv_run
    cutoff = report["output"]["eval_cutoff"]
    train, evals = _examples(out, "train"), _examples(out, "eval")
    assert len(train) == report["output"]["train_examples"] > 0
    assert len(evals) == report["output"]["eval_examples"] > 0
    for split, examples in (("train", train), ("eval", evals)):
        for ex in examples:
            target_ts = _values(ex, fk.TIMESTAMP)[0]
            history_ts = [t for t in _values(ex, fk.HISTORY_TIMESTAMPS) if t]
            assert all(t < target_ts for t in history_ts)
            assert (target_ts < cutoff) == (split == "train")


def test_csv_jsonl_and_parquet_give_the_same_examples(world, csv_run, tmp_path):
    _, csv_out = csv_run
    expected = {s: sorted(map(_canonical, _examples(csv_out, s))) for s in ("train", "eval")}
    for fmt in ("jsonl", "parquet"):
        _, out = _ingest(world, fmt, str(tmp_path / fmt))
        for split in ("train", "eval"):
            got = sorted(map(_canonical, _examples(out, split)))
            assert got == expected[split], (fmt, split)


@contextlib.contextmanager
def _sdk_workers():
    """Collects the pids of Beam SDK worker processes started below this one meanwhile (the
    Python processes, not the shells that start them)."""
    import psutil

    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for child in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if "apache_beam.runners.worker.sdk_worker_main" in child.cmdline():
                        seen.add(child.pid)
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        done.set()
        watcher.join()


def _catalog(out: str) -> list[tuple]:
    files = sorted(glob.glob(os.path.join(out, "catalog", "catalog", "*")))
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return sorted(_canonical(tf.train.Example.FromString(r.numpy())) for r in records)


@pytest.mark.slow
def test_two_multi_processing_workers_give_exactly_what_one_gives(world, csv_run, tmp_path):
    """The DirectRunner's multi_processing mode with 2 worker processes (the ``beam`` section's
    ``workers: 2``): the same examples, catalog, dead letters and report as in-process."""
    from rtrec.beam_config import BeamConfig, beam_args

    two = beam_args(BeamConfig(workers=2))
    assert "--direct_running_mode=multi_processing" in two
    one_report, one_out = csv_run
    with _sdk_workers() as workers:
        report, out = _ingest(world, "csv", str(tmp_path), two)
    assert len(workers) == 2, workers  # the work ran in two Beam worker processes
    assert report == one_report
    for split in ("train", "eval"):
        got = sorted(map(_canonical, _examples(out, split)))
        assert got == sorted(map(_canonical, _examples(one_out, split))), split
        assert len(got) == report["output"][f"{split}_examples"]
    assert _catalog(out) == _catalog(one_out) and _catalog(out)

    def by_file(out: str) -> list[dict]:  # the two runs read copies in different folders
        return [{**d, "source": os.path.basename(d["source"])} for d in _dead_letters(out)]

    assert by_file(out) == by_file(one_out) and by_file(out)


def _ingest_files(root, events: bytes, items: bytes, events_name: str = "events.csv"):
    (root / events_name).write_bytes(events)
    (root / "items.csv").write_bytes(items)
    uris = [str(root / "out" / name) for name in ("examples", "catalog", "dead", "report")]
    pipeline = beam.Pipeline(options=PipelineOptions(LOCAL_BEAM_ARGS))
    cfg = IngestionConfig(now=NOW)
    report = run_ingestion(
        str(root / events_name), str(root / "items.csv"), cfg, 50, pipeline, *uris
    )
    return report, _dead_letters(str(root / "out"))


def _dead_letters(out: str) -> list[dict]:
    lines = []
    for path in glob.glob(os.path.join(out, "dead", "*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            lines += [json.loads(line) for line in handle]
    return sorted(lines, key=lambda x: (x["source"], x["line"]))


ITEMS = "item_id,title,category\na,Lamp,Home\nb,Kettle,Home\nc,Crème brûlée,Food\n"
HOUR = 3600


def _events(*rows: bytes) -> bytes:
    return b"user_id,item_id,event_type,timestamp\n" + b"".join(rows)


def _clean_events() -> list[bytes]:
    return [
        f"{user},{item},view,{1_700_000_000 + hour * HOUR}\n".encode()
        for user in ("u1", "u2", "u3")
        for hour, item in enumerate("abcab")
    ]


def test_bad_bytes_are_dead_lettered_and_counted_not_a_crash(tmp_path):
    clean = _clean_events()
    events = _events(*clean[:4], b"u9,a\x00,view,1700000000\n", *clean[4:], b"u8,caf\xe9,view,1\n")
    items = ITEMS.encode() + b"d,cr\xe8me,Food\n"
    report, dead = _ingest_files(tmp_path, events, items)
    assert report["reconciled"] == {"events": True, "items": True}
    assert report["events"]["rejected"] == {"bad_bytes": 2}
    assert report["events"]["accepted"] == len(clean)
    assert report["items"]["rejected"] == {"bad_bytes": 1}
    assert [(x["reason"], x["line"]) for x in dead] == [
        ("bad_bytes", 6),
        ("bad_bytes", 18),
        ("item:bad_bytes", 5),
    ]
    assert dead[0]["raw"] == "u9,a\\x00,view,1700000000" and "NUL" in dead[0]["detail"]


def test_item_rows_that_conflict_with_the_first_are_dead_lettered(tmp_path):
    items = ITEMS + "a,Lamp,Home\nb,Teapot,Home\n"  # an exact repeat, then a conflict
    report, dead = _ingest_files(tmp_path, _events(*_clean_events()), items.encode())
    assert report["reconciled"] == {"events": True, "items": True}
    assert report["items"]["accepted"] == 3 and report["items"]["duplicates_removed"] == 1
    assert report["items"]["rejected"] == {"conflicting_duplicate": 1}
    [conflict] = dead
    assert conflict["reason"] == "item:conflicting_duplicate" and conflict["line"] == 6
    assert "line 3" in conflict["detail"] and "'Teapot'" in conflict["detail"]
    assert conflict["row"]["title"] == "Teapot"


def test_an_ingestion_that_accepts_nothing_stops_with_the_reasons(tmp_path):
    from components.ingestion.report import NothingToTrainError

    events = _events(b"u1,zz,view,1700000000\n", b"u2,a,teleport,1700000000\n")
    with pytest.raises(NothingToTrainError, match=r"accepted none of the 2 event rows") as err:
        _ingest_files(tmp_path, events, ITEMS.encode())
    assert "bad_event_type 1" in str(err.value) and "unknown_item 1" in str(err.value)
    assert os.path.exists(tmp_path / "out" / "report" / "report.json")


def test_a_forgotten_users_events_are_dropped_from_every_split(world, csv_run, tmp_path):
    """A tombstone (as the gateway's DELETE /v1/users writes it) removes the user from train
    and eval; the report counts the dropped rows and still reconciles."""
    from rtrec.timeline import pseudonym_key, pseudonymize
    from rtrec.tombstones import tombstone_line

    report, out = csv_run
    key = pseudonym_key(IngestionConfig().pseudonym_key_env)
    examples = {s: _examples(out, s) for s in ("train", "eval")}
    users = [_values(ex, fk.USER_KEY)[0].decode() for s in examples for ex in examples[s]]
    paths = write_world(world, str(tmp_path / "data"), "csv")
    with open(paths["events"], encoding="utf-8") as handle:
        raw_ids = {line.split(",", 1)[0] for line in handle.readlines()[1:]}
    by_key = {pseudonymize(raw, key): raw for raw in raw_ids}
    victim = max((u for u in set(users) if u in by_key), key=users.count)
    stones = tmp_path / "tombstones.jsonl"
    stones.write_bytes(tombstone_line(victim, 1.0))
    uris = [str(tmp_path / "out" / name) for name in ("examples", "catalog", "dead", "report")]
    pipeline = beam.Pipeline(options=PipelineOptions(LOCAL_BEAM_ARGS))
    cfg = IngestionConfig(now=NOW, tombstones=str(stones))
    forgotten = run_ingestion(paths["events"], paths["items"], cfg, 50, pipeline, *uris)
    assert forgotten["reconciled"] == {"events": True, "items": True}
    assert forgotten["events"]["forgotten_users"] == 1
    assert forgotten["events"]["forgotten_events"] > 0
    kept_rows = ("accepted", "duplicates_removed", "bot_filtered")
    assert sum(forgotten["events"][k] for k in kept_rows) == (
        sum(report["events"][k] for k in kept_rows) - forgotten["events"]["forgotten_events"]
    )  # the user's rows are counted once, as forgotten, before dedupe and the bot rule
    assert forgotten["events"]["accepted"] < report["events"]["accepted"]
    kept = [
        _values(ex, fk.USER_KEY)[0].decode()
        for split in ("train", "eval")
        for ex in _examples(str(tmp_path / "out"), split)
    ]
    assert victim not in kept
    assert len(kept) == len(users) - users.count(victim)  # (the cutoff may move an example)
