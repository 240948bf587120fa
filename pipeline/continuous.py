"""Continuous training: one retraining cycle over the newest span plus a rolling window.

Event files land as spans, one folder each (the gateway's event log writes ``span=YYYY-MM-DD``
folders, which sort by time; any other folder names sort as they are). A cycle trains on the
last ``window`` spans: their files are linked into the cycle's own folder, so the run's input is
recorded exactly and the spans stay where they are. It reuses the run's output folder (one ML
Metadata store), so the Trainer warm-starts from the latest blessed model and the Evaluator
compares against it; a blessed model is pushed as a new version, which ``rtrec serve-model``
(or TF Serving) picks up without a restart. Users forgotten through the gateway are dropped by
ingestion (``ingestion.tombstones``). This is a thin runner around ``local_runner``: on Kubeflow
a schedule does the same with a glob over shared storage.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from rtrec.config import RtrecConfig
from rtrec.data.tables import SUPPORTED_EXTENSIONS, InputError

CYCLES_DIR = "cycles"


def spans(root: str) -> list[Path]:
    """The span folders under ``root`` that hold event files, oldest first (by name)."""
    base = Path(root)
    if not base.is_dir():
        raise InputError(f"{root}: no such folder of event spans")
    found = [
        folder
        for folder in sorted(base.iterdir())
        if folder.is_dir()
        and any(p.suffix.lower() in SUPPORTED_EXTENSIONS for p in folder.rglob("*") if p.is_file())
    ]
    if not found:
        raise InputError(
            f"{root} holds no span folders with event files ({'/'.join(SUPPORTED_EXTENSIONS)}); "
            "each span is a sub-folder, e.g. span=2026-12-01/"
        )
    return found


def link_window(root: str, window: int, into: str) -> list[str]:
    """Link the files of the last ``window`` spans into ``into`` (one sub-folder per span);
    returns the span names used."""
    if window < 1:
        raise ValueError(f"window must be at least 1 span, got {window}")
    chosen = spans(root)[-window:]
    for span in chosen:
        for path in sorted(p for p in span.rglob("*") if p.is_file()):
            if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                continue
            target = Path(into) / span.name / path.relative_to(span)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path.resolve(), target)
    return [span.name for span in chosen]


def cycle_config(cfg: RtrecConfig, spans_root: str, window: int) -> tuple[RtrecConfig, dict]:
    """The config of the next cycle (its events: the window's files; warm start on, and drift
    checks on once an earlier run in this folder left statistics to compare with) and a
    description of the cycle (folder, spans)."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    cycles = Path(cfg.output_dir) / CYCLES_DIR
    number = len(list(cycles.iterdir())) + 1 if cycles.exists() else 1
    folder = cycles / f"{number:04d}-{stamp}"
    events = folder / "events"
    used = link_window(spans_root, window, str(events))
    trainer = dataclasses.replace(cfg.trainer, warm_start=True)
    drift = dataclasses.replace(cfg.drift, enabled=os.path.exists(cfg.metadata_path))
    cycle_cfg = dataclasses.replace(cfg, events=str(events), trainer=trainer, drift=drift)
    return cycle_cfg, {"cycle": number, "folder": str(folder), "spans": used}


def run_cycle(cfg: RtrecConfig, spans_root: str, window: int) -> dict:
    """Run one cycle with the local runner; returns its description (raises on failure)."""
    from pipeline import local_runner

    cycle_cfg, cycle = cycle_config(cfg, spans_root, window)
    started = time.perf_counter()
    local_runner.run(cycle_cfg)
    return {**cycle, "seconds": time.perf_counter() - started, "config": cycle_cfg}
