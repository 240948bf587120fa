"""Two continuous-training cycles end to end on the tiny world, through `rtrec retrain`.

Span 1 holds the first 60% of the events by time; span 2 the rest, in which the events of the
two busiest items are re-labelled as two items the catalog gains only then (new ids, the same
text). Before cycle 2 one user who appears in both spans is forgotten (a tombstone, as the
gateway's DELETE writes it). Cycle 2 must push a second version, warm-started from the first
(fewer epochs to the best NDCG@10 a cold start reaches on the same data), the new items must be
in its index and retrieved for the users who took them, and the forgotten user must be absent.
"""

from __future__ import annotations

import csv
import glob
import json
import os
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from rtrec import features as fk
from rtrec.data.world import generate_world, write_world
from rtrec.validation import parse_timestamp

SETTINGS = (
    "ingestion.now=2025-07-01T00:00:00Z",
    "trainer.hparams.encoder=tiny",
    "trainer.embedding_cache_dir=cache",
    "trainer.hparams={epochs: 12, embedding_dim: 16}",
)


def _write(path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _read(path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


def _time(event: dict) -> int:
    """Unix seconds of a raw row (the sample world mixes formats; an unreadable time is 0)."""
    return int(parse_timestamp(event["timestamp"] or "") or 0)


def _spans(tmp_path):
    """Two spans, the grown catalog and the new items' ids."""
    paths = write_world(generate_world("tiny", 0), str(tmp_path / "world"), "csv")
    header, events = _read(paths["events"])
    item_header, items = _read(paths["items"])
    events.sort(key=_time)
    cut = int(0.6 * len(events))
    first, second = events[:cut], [dict(e) for e in events[cut:]]
    catalog = {row["item_id"] for row in items}  # (search rows have no item)
    taken = Counter(e["item_id"] for e in second if e["item_id"] in catalog)
    busiest = [item for item, _ in taken.most_common(2)]
    renamed = {item: f"new-{item}" for item in busiest}
    for event in second:
        event["item_id"] = renamed.get(event["item_id"], event["item_id"])
    _write(tmp_path / "spans" / "span=1" / "events.csv", header, first)
    _write(tmp_path / "spans" / "span=2" / "events.csv", header, second)
    grown = items + [{**row, "item_id": renamed[row["item_id"]]}
                     for row in items if row["item_id"] in renamed]  # fmt: skip
    _write(tmp_path / "items-2.csv", item_header, grown)
    return paths["items"], str(tmp_path / "items-2.csv"), list(renamed.values()), first, second


def _retrain(items: str, window: int, *extra: str):
    sets = [a for s in (*SETTINGS, *extra) for a in ("--set", s)]
    args = ["retrain", "--spans", "spans", "--items", items, "--window", str(window),
            "--output-dir", "run", *sets]  # fmt: skip
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    return done.output


def _reports(run_dir: str) -> list[dict]:
    """The trainer's reports, oldest run first."""
    paths = glob.glob(os.path.join(run_dir, "pipeline", "RtrecTrainer", "model_run", "*",
                                   "training_report.json"))  # fmt: skip
    paths.sort(key=lambda p: int(p.split(os.sep)[-2]))
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            out.append(json.load(f))
    return out


def _example_users(run_dir: str) -> set[str]:
    """The pseudonyms in the newest ingestion's examples (train and eval)."""
    import tensorflow as tf

    base = os.path.join(run_dir, "pipeline", "EventIngestion", "examples")
    root = os.path.join(base, max(os.listdir(base), key=int))
    files = glob.glob(os.path.join(root, "Split-*", "*"))
    assert files, root
    users = set()
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        feature = tf.train.Example.FromString(record).features.feature
        users.add(feature[fk.USER_KEY].bytes_list.value[0].decode())
    return users


def _ndcg(report: dict) -> list[float]:
    return [epoch["all"]["NDCG@10"] for epoch in report["eval"]]


def _epochs_to_reach(values: list[float], target: float) -> int:
    return next((n for n, v in enumerate(values, 1) if v >= target), len(values) + 1)


@pytest.mark.e2e
@pytest.mark.slow
def test_two_retraining_cycles_warm_start_grow_the_catalog_and_forget_a_user(tmp_path, monkeypatch):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (the SavedModel's tokenizer ops)

    from rtrec.timeline import pseudonym_key, pseudonymize
    from rtrec.tombstones import tombstone_line

    monkeypatch.chdir(tmp_path)
    items_1, items_2, new_items, first, second = _spans(tmp_path)
    key = pseudonym_key("RTREC_PSEUDONYM_KEY")

    _retrain(items_1, window=1)  # cycle 1: span 1 only, a cold start
    serving = tmp_path / "run" / "serving" / "rtrec"
    assert len(os.listdir(serving)) == 1
    trained = _example_users("run")
    both = {e["user_id"] for e in first} & {e["user_id"] for e in second}
    victim = sorted(u for u in both if pseudonymize(u, key) in trained)[0]
    victim_key = pseudonymize(victim, key)

    (tmp_path / "tombstones.jsonl").write_bytes(tombstone_line(victim_key, 1.0))
    output = _retrain(items_2, 2, "ingestion.tombstones=tombstones.jsonl")  # cycle 2: both spans
    assert "Cycle 2: spans span=1, span=2" in output
    versions = sorted(os.listdir(serving), key=int)
    assert len(versions) == 2, output

    assert victim_key not in _example_users("run")

    cold, warm = _reports("run")[-2:]
    assert cold["warm_start"]["from"] is None and warm["warm_start"]["from"]
    # the same data (cycle 2's window) trained from scratch, for the comparison
    cold_run = CliRunner().invoke(main, [
        "run", "--events", sorted(glob.glob("run/cycles/0002-*/events"))[0], "--items", items_2,
        "--output-dir", "cold", "--stop-after", "trainer",
        *[a for s in (*SETTINGS, "ingestion.tombstones=tombstones.jsonl") for a in ("--set", s)],
    ])  # fmt: skip
    assert cold_run.exit_code == 0, cold_run.output
    scratch = _reports("cold")[-1]
    # warm: from cycle 1's weights, it reaches the best NDCG@10 of the cold start in fewer
    # epochs (the trainer's full-catalog evaluation after each epoch, on the same eval split)
    warm_ndcg, cold_ndcg = _ndcg(warm), _ndcg(scratch)
    assert warm_ndcg[0] > cold_ndcg[0], (warm_ndcg, cold_ndcg)
    best = max(cold_ndcg)
    assert _epochs_to_reach(warm_ndcg, best) < cold_ndcg.index(best) + 1, (warm_ndcg, cold_ndcg)

    old = tf.saved_model.load(str(serving / versions[0]))
    new = tf.saved_model.load(str(serving / versions[1]))
    ids = tf.constant(new_items)
    assert not old.signatures["item_vectors"](item_ids=ids)["known"].numpy().any()
    assert new.signatures["item_vectors"](item_ids=ids)["known"].numpy().all()
    hits = 0
    takers = {e["user_id"] for e in second if e["item_id"] in new_items} - {victim}
    for user in sorted(takers):
        mine = [e for e in first + second if e["user_id"] == user]
        taken = min(n for n, e in enumerate(mine) if e["item_id"] in new_items)
        history = [e for e in mine[:taken] if e["item_id"] not in new_items][-10:]
        if not history:
            continue
        out = new.signatures["recommend"](
            history_item_ids=tf.constant([[e["item_id"] for e in history]]),
            history_event_types=tf.constant([[e["event_type"] for e in history]]),
            history_timestamps=tf.constant([[_time(e) for e in history]], tf.int64),
            user_key=tf.constant([""]),
            exclude_item_ids=tf.constant([[""]]),
            k=tf.constant(10),
            now=tf.constant([_time(mine[taken])], tf.int64),
        )
        top = {i.decode() for i in out["item_ids"].numpy()[0]}
        hits += bool(top & set(new_items))
    assert hits >= max(1, len(takers) // 10), (hits, len(takers))
    assert np.isfinite(warm["loss"]).all()
