"""Ingestion throughput: the Beam ingestion graph on a sample world, per format or per scale.

    python benchmarks/ingestion.py --size default --formats csv parquet --out ingestion.json
    python benchmarks/ingestion.py --scales 1 4 16 --workers 1 2 \\
        --out benchmarks/results/ingestion_scaling.json

Runs the graph directly (no orchestrator) on Beam's DirectRunner, so the numbers are the
graph's own: rows read, validated, deduplicated, sessionized and written as tf.Examples.
Prints a table and writes JSON; the rows are measured side by side in one run.

``--scales`` replicates the world's events N times (benchmarks/scaled_world.py: new user ids,
shifted times, the same catalog) and ingests each scale with each ``--workers`` count
(1: in-process; N > 1: the DirectRunner's multi_processing mode), each in a fresh process so
peak memory is that run's own. ``s_per_1x`` is the time per copy of the world and
``vs_linear`` the time against linear growth from the first scale (1.0: linear; below:
fixed start-up costs amortized). The JSON is rewritten after every row, so a long run that is
stopped keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rtrec.env  # noqa: E402,F401
from benchmarks.tables import print_and_save  # noqa: E402

NOW = "2025-07-01T00:00:00Z"


def ingest(events: str, items: str, out: str, workers: int = 1) -> tuple[dict, float]:
    """Run ingestion once on ``workers`` DirectRunner workers; returns (report, seconds)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from components.ingestion.component import run_ingestion
    from rtrec.beam_config import BeamConfig, beam_args
    from rtrec.config import IngestionConfig
    from rtrec.hparams import Hyperparameters

    uris = [os.path.join(out, name) for name in ("examples", "catalog", "dead", "report")]
    options = PipelineOptions(beam_args(BeamConfig(workers=workers)))
    started = time.perf_counter()
    report = run_ingestion(
        events,
        items,
        IngestionConfig(now=NOW),
        Hyperparameters().history_length,
        beam.Pipeline(options=options),
        *uris,
    )
    return report, time.perf_counter() - started


def _peak_mb(who: int) -> int:
    return round(resource.getrusage(who).ru_maxrss / 1024)


def measure(size: str, fmt: str, workdir: str) -> dict:
    """Generate (not timed), then ingest one world in one format (timed)."""
    from rtrec.data.world import generate_world, write_world

    paths = write_world(generate_world(size, 0), os.path.join(workdir, fmt, "data"), fmt)
    report, seconds = ingest(paths["events"], paths["items"], os.path.join(workdir, fmt, "out"))
    rows = report["events"]["rows_in"]
    return {
        "size": size,
        "format": fmt,
        "events_in": rows,
        "examples": report["output"]["train_examples"] + report["output"]["eval_examples"],
        "seconds": round(seconds, 2),
        "events_per_second": round(rows / seconds),
        "peak_rss_mb": _peak_mb(resource.RUSAGE_SELF),
    }


def measure_one(events: str, items: str, out: str, workers: int) -> dict:
    """One scaling row, in this (fresh) process: counts, time, peak memory, machine load.

    ``rss_mb`` is this process's peak; ``child_rss_mb`` the largest child's (a Beam worker in
    multi_processing mode), not their sum. ``load_1m`` is the 1-minute load average at start.
    """
    load = os.getloadavg()[0]
    report, seconds = ingest(events, items, out, workers)
    rows = report["events"]["rows_in"]
    return {
        "events_in": rows,
        "examples": report["output"]["train_examples"] + report["output"]["eval_examples"],
        "users": report["output"]["users"],
        "seconds": round(seconds, 2),
        "events_per_s": round(rows / seconds),
        "rss_mb": _peak_mb(resource.RUSAGE_SELF),
        "child_rss_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "load_1m": round(load, 2),
    }


def _run_child(events: str, items: str, out: str, workers: int) -> dict:
    command = [sys.executable, __file__, "--one", events, items, out, str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ingestion with {workers} worker(s) failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scaling(size: str, scales: list[int], workers: list[int], fmt: str, out: str) -> list[dict]:
    """Every scale with every worker count, the rows written to ``out`` as they come."""
    from benchmarks.scaled_world import write_scaled
    from rtrec.data.world import generate_world

    world = generate_world(size, 0)
    rows: list[dict] = []
    first_seconds: dict[int, float] = {}
    for scale in scales:
        with tempfile.TemporaryDirectory() as workdir:
            paths = write_scaled(world.events, world.items, scale, workdir, fmt)
            for n in workers:
                result = _run_child(paths["events"], paths["items"], f"{workdir}/out{n}", n)
                shutil.rmtree(f"{workdir}/out{n}")  # 16x writes gigabytes
                first_seconds.setdefault(n, result["seconds"] / scale)
                rows.append(
                    {
                        "scale": f"{scale}x",
                        "workers": n,
                        **result,
                        "s_per_1x": round(result["seconds"] / scale, 2),
                        "vs_linear": round(result["seconds"] / (first_seconds[n] * scale), 2),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
                Path(out).parent.mkdir(parents=True, exist_ok=True)
                Path(out).write_text(json.dumps(rows, indent=2))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="default", choices=["tiny", "small", "default", "large"])
    parser.add_argument("--formats", nargs="+", default=["csv", "jsonl", "parquet"])
    parser.add_argument("--scales", nargs="+", type=int, help="Replicate the events N times.")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--out", default="outputs/bench_ingestion.json")
    parser.add_argument("--one", nargs=4, metavar=("EVENTS", "ITEMS", "OUT", "WORKERS"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.one:
        events, items, out, workers = args.one
        print(json.dumps(measure_one(events, items, out, int(workers))))
        return
    if args.scales:
        fmt = args.formats[0] if len(args.formats) == 1 else "parquet"
        rows = scaling(args.size, args.scales, args.workers, fmt, args.out)
        title = f"Ingestion scaling, {args.size} world x N, DirectRunner, {fmt}"
        print_and_save(rows, title, "events_per_s", "scale", args.out)
        return
    with tempfile.TemporaryDirectory() as workdir:
        results = [measure(args.size, fmt, workdir) for fmt in args.formats]
    title = f"Ingestion throughput, {args.size} world, DirectRunner"
    print_and_save(results, title, "events_per_second", "format", args.out)


if __name__ == "__main__":
    main()
