"""Spans, the rolling window and the config of a retraining cycle."""

from __future__ import annotations

import os

import pytest

from pipeline.continuous import cycle_config, link_window, spans
from rtrec import config as config_lib
from rtrec.data.tables import InputError, resolve_files


def _spans(root, names):
    for name in names:
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "events-a.jsonl").write_text('{"user_id": "u"}\n')
        (folder / "notes.txt").write_text("not an event file")
    (root / "empty").mkdir()


def test_spans_sort_by_name_and_skip_folders_without_event_files(tmp_path):
    _spans(tmp_path, ["span=2026-12-02", "span=2026-11-30", "span=2026-12-01"])
    assert [p.name for p in spans(str(tmp_path))] == [
        "span=2026-11-30", "span=2026-12-01", "span=2026-12-02"
    ]  # fmt: skip
    with pytest.raises(InputError, match="no such folder"):
        spans(str(tmp_path / "missing"))
    with pytest.raises(InputError, match="holds no span folders"):
        spans(str(tmp_path / "empty"))


def test_the_window_links_the_newest_spans_files(tmp_path):
    _spans(tmp_path / "log", ["span=1", "span=2", "span=3"])
    used = link_window(str(tmp_path / "log"), 2, str(tmp_path / "cycle"))
    assert used == ["span=2", "span=3"]
    files = resolve_files(str(tmp_path / "cycle"))
    assert [os.path.relpath(f, tmp_path / "cycle") for f in files] == [
        "span=2/events-a.jsonl", "span=3/events-a.jsonl"
    ]  # fmt: skip
    assert all(os.path.islink(f) for f in files)
    with pytest.raises(ValueError, match="at least 1"):
        link_window(str(tmp_path / "log"), 0, str(tmp_path / "other"))


def test_each_cycle_gets_its_own_folder_and_warm_starts(tmp_path):
    _spans(tmp_path / "log", ["span=1", "span=2"])
    cfg = config_lib.load(None, [f"output_dir={tmp_path}/run", "items=i.csv"])
    first, described = cycle_config(cfg, str(tmp_path / "log"), 5)
    second, again = cycle_config(cfg, str(tmp_path / "log"), 1)
    assert first.trainer.warm_start and not cfg.trainer.warm_start
    assert described["cycle"] == 1 and again["cycle"] == 2
    assert described["spans"] == ["span=1", "span=2"] and again["spans"] == ["span=2"]
    assert first.events != second.events and first.output_dir == cfg.output_dir
    # drift needs an earlier run's statistics: off in a fresh folder, on once it has metadata
    assert not first.drift.enabled
    os.makedirs(cfg.output_dir, exist_ok=True)
    open(cfg.metadata_path, "w").close()
    assert cycle_config(cfg, str(tmp_path / "log"), 1)[0].drift.enabled
