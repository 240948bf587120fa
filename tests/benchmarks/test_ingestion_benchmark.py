"""The ingestion scaling benchmark: replicated worlds are N times the world, count for count."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks import ingestion
from benchmarks.scaled_world import replicate, shift_timestamps, write_scaled
from rtrec import contract as c
from rtrec.data.world import generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world("tiny", 0)


def test_a_copy_has_new_users_and_sessions_and_shifted_times_but_the_same_dirt(world):
    events = world.events
    copy = replicate(events, 3)
    assert len(copy) == len(events) and list(copy.columns) == list(events.columns)
    named = events[c.USER_ID] != ""
    assert (copy[c.USER_ID][named] == events[c.USER_ID][named] + "-x3").all()
    assert (copy[c.USER_ID][~named] == "").all()  # a missing user id stays a defect
    assert not set(copy[c.USER_ID][named]) & set(events[c.USER_ID])
    assert (copy[c.ITEM_ID] == events[c.ITEM_ID]).all()  # the same catalog
    assert replicate(events, 0) is events


def test_timestamps_move_in_their_own_format_and_bad_ones_stay_bad():
    stamps = pd.Series(["1735693458", "2025-03-04T10:11:12Z", "2025-02-30T25:61:00Z", "x"])
    assert list(shift_timestamps(stamps, 120)) == [
        "1735693578",
        "2025-03-04T10:13:12Z",
        "2025-02-30T25:61:00Z",
        "x",
    ]


def test_two_copies_ingest_to_exactly_twice_every_count(world, tmp_path):
    one = write_scaled(world.events, world.items, 1, str(tmp_path / "one"), "parquet")
    two = write_scaled(world.events, world.items, 2, str(tmp_path / "two"), "parquet")
    single, _ = ingestion.ingest(one["events"], one["items"], str(tmp_path / "out1"))
    double, _ = ingestion.ingest(two["events"], two["items"], str(tmp_path / "out2"))
    for key in ("rows_in", "accepted", "duplicates_removed", "bot_filtered", "bot_users"):
        assert double["events"][key] == 2 * single["events"][key], key
    for reason, count in single["events"]["rejected"].items():
        assert double["events"]["rejected"][reason] == 2 * count, reason
    out1, out2 = single["output"], double["output"]
    assert out2["users"] == 2 * out1["users"]
    assert out2["train_examples"] + out2["eval_examples"] == 2 * (
        out1["train_examples"] + out1["eval_examples"]
    )
    assert double["items"] == single["items"]


@pytest.mark.slow
def test_the_scaling_table_has_every_scale_and_worker_count(tmp_path):
    out = tmp_path / "scaling.json"
    ingestion.main(["--size", "tiny", "--scales", "1", "2", "--workers", "1", "2",
                    "--formats", "parquet", "--out", str(out)])  # fmt: skip
    rows = json.loads(out.read_text())
    assert [(r["scale"], r["workers"]) for r in rows] == [
        ("1x", 1),
        ("1x", 2),
        ("2x", 1),
        ("2x", 2),
    ]
    by = {(r["scale"], r["workers"]): r for r in rows}
    for workers in (1, 2):
        assert by[("2x", workers)]["events_in"] == 2 * by[("1x", workers)]["events_in"]
        assert by[("2x", workers)]["examples"] == by[("2x", 1)]["examples"]
        assert by[("1x", workers)]["vs_linear"] == 1.0
    assert all(r["events_per_s"] > 0 and r["load_1m"] >= 0 for r in rows)
