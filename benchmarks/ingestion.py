"""Ingestion throughput: the Beam ingestion graph on a sample world, per input format.

    python benchmarks/ingestion.py --size default --formats csv parquet --out ingestion.json

Runs the graph directly (no orchestrator) on Beam's DirectRunner, so the numbers are the
graph's own: rows read, validated, deduplicated, sessionized and written as tf.Examples.
Prints a table and writes JSON; formats are measured side by side in one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rtrec.env  # noqa: E402,F401
from benchmarks.tables import print_and_save  # noqa: E402


def measure(size: str, fmt: str, workdir: str) -> dict:
    """Generate (not timed), then ingest one world in one format (timed)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from components.ingestion.component import run_ingestion
    from rtrec.config import LOCAL_BEAM_ARGS, IngestionConfig
    from rtrec.data.world import generate_world, write_world
    from rtrec.hparams import Hyperparameters

    paths = write_world(generate_world(size, 0), os.path.join(workdir, fmt, "data"), fmt)
    out = os.path.join(workdir, fmt, "out")
    uris = [os.path.join(out, name) for name in ("examples", "catalog", "dead", "report")]
    started = time.perf_counter()
    report = run_ingestion(
        paths["events"],
        paths["items"],
        IngestionConfig(now="2025-07-01T00:00:00Z"),
        Hyperparameters().history_length,
        beam.Pipeline(options=PipelineOptions(list(LOCAL_BEAM_ARGS))),
        *uris,
    )
    seconds = time.perf_counter() - started
    rows = report["events"]["rows_in"]
    return {
        "size": size,
        "format": fmt,
        "events_in": rows,
        "examples": report["output"]["train_examples"] + report["output"]["eval_examples"],
        "seconds": round(seconds, 2),
        "events_per_second": round(rows / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="default", choices=["tiny", "small", "default", "large"])
    parser.add_argument("--formats", nargs="+", default=["csv", "jsonl", "parquet"])
    parser.add_argument("--out", default="outputs/bench_ingestion.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        results = [measure(args.size, fmt, workdir) for fmt in args.formats]
    title = f"Ingestion throughput, {args.size} world, DirectRunner"
    print_and_save(results, title, "events_per_second", "format", args.out)


if __name__ == "__main__":
    main()
