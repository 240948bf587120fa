"""`rtrec run`, `demo`, `inspect`, `report`, `tensorboard`: a pipeline run and what it left."""

from __future__ import annotations

import os
import time

import click

from cli import noise, runs
from cli.common import LAST_RUN_HELP, console, load_config, run_config
from cli.data_commands import generate
from cli.progress import pipeline_progress
from rtrec import config as config_lib


def _check_inputs(cfg: config_lib.RtrecConfig) -> None:
    """Fail before anything is written when an input breaks the contract."""
    from components.ingestion.sources import check_inputs
    from rtrec import contract
    from rtrec.data.tables import InputError

    try:
        check_inputs(cfg.events, contract.EVENT_REQUIRED_COLUMNS, "events")
        check_inputs(cfg.items, contract.ITEM_REQUIRED_COLUMNS, "items")
    except InputError as err:
        raise click.ClickException(str(err)) from err


def _run_pipeline(cfg: config_lib.RtrecConfig) -> float:
    """Run the pipeline with live progress; a data problem ends it with its message, no trace."""
    from components.ingestion.report import NothingToTrainError, ReconciliationError
    from pipeline import local_runner

    runs.record_run(cfg)
    started = time.perf_counter()
    try:
        with pipeline_progress(console, cfg.stop_after, os.path.abspath(cfg.metadata_path)):
            local_runner.run(cfg)
    except (NothingToTrainError, ReconciliationError) as err:
        raise click.ClickException(f"the run stopped after ingestion: {err}") from err
    return time.perf_counter() - started


@click.command()
@click.option(
    "--spans", "spans_root", required=True, help="Folder of event spans (span=... folders)."
)
@click.option("--items", help="Item catalog file, folder or glob (default: from --config).")
@click.option("--window", default=7, show_default=True, help="Spans per cycle (the newest ones).")
@click.option("--config", "config_path", help="YAML or JSON config file.")
@click.option("--output-dir", help="The run folder kept across cycles (one metadata store).")
@click.option("--set", "overrides", multiple=True, help="Override a setting: section.field=value.")
def retrain(spans_root, items, window, config_path, output_dir, overrides) -> None:
    """One continuous-training cycle: the newest spans, warm-started, gated, pushed."""
    from pipeline.continuous import cycle_config
    from rtrec.data.tables import InputError

    cfg = load_config(config_path, overrides, items=items, output_dir=output_dir)
    if not cfg.items:
        raise click.UsageError("give --items (or set items in --config)")
    try:
        cycle_cfg, cycle = cycle_config(cfg, spans_root, window)
    except (InputError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    console.print(f"Cycle {cycle['cycle']}: spans {', '.join(cycle['spans'])}", soft_wrap=True)
    _check_inputs(cycle_cfg)
    took = _run_pipeline(cycle_cfg)
    _finish(cycle_cfg, took)


@click.command()
@click.option("--events", help="Events file, folder or glob (CSV, JSONL or Parquet).")
@click.option("--items", help="Item catalog file, folder or glob.")
@click.option("--config", "config_path", help="YAML or JSON config file.")
@click.option("--output-dir", help="Where pipeline artifacts and metadata go.")
@click.option("--stop-after", help="Last stage to run (ingestion ... transform).")
@click.option("--set", "overrides", multiple=True, help="Override a setting: section.field=value.")
def run(events, items, config_path, output_dir, stop_after, overrides) -> None:
    """Run the pipeline on any data in the input contract."""
    cfg = load_config(
        config_path,
        overrides,
        events=events,
        items=items,
        output_dir=output_dir,
        stop_after=stop_after,
    )
    if not cfg.events or not cfg.items:
        raise click.UsageError("give --events and --items (or set them in --config)")
    _check_inputs(cfg)
    took = _run_pipeline(cfg)
    console.print(f"Pipeline finished in {took:.0f}s; artifacts under {cfg.pipeline_root}")
    _finish(cfg, took)


def _inspect(metadata_path: str, took: float | None = None):
    from cli.render import render_summary
    from cli.run_summary import load_summary

    summary = load_summary(metadata_path)
    render_summary(console, summary, took)
    return summary


def _write_report(cfg: config_lib.RtrecConfig, summary, out_path: str | None = None) -> str:
    """HTML report + TensorBoard scalars of the run's evaluation; returns the report path."""
    from components.evaluation.report import render_report, thresholds_text, write_tensorboard

    if summary.gate is None:
        raise click.ClickException("this run has no evaluation yet (stop_after before evaluator)")
    e = cfg.evaluation
    text = thresholds_text(
        e.min_values, e.min_cold_values, e.max_relative_regression, e.regression_metrics
    )
    checks = {"Schema anomalies": summary.anomalies, "Drift against the previous run":
              summary.drift, "Training/serving skew": summary.skew}  # fmt: skip
    html = render_report(
        summary.gate, summary.artifacts["ModelEvaluation"], summary.pushed_to, text, checks
    )
    out_path = out_path or os.path.join(cfg.output_dir, "report.html")
    with open(out_path, "w", encoding="utf-8") as handle:
        handle.write(html)
    if summary.artifacts.get("ModelRun"):
        write_tensorboard(summary.gate, summary.artifacts["ModelRun"])
    return out_path


def _finish(cfg: config_lib.RtrecConfig, took: float) -> None:
    """After a run: summary, report, where everything is, and a non-zero exit when the model
    was not blessed."""
    from cli.render import render_locations

    summary = _inspect(cfg.metadata_path, took)
    report_path = _write_report(cfg, summary) if summary.gate is not None else None
    render_locations(console, summary, report_path)
    if summary.gate is not None and not summary.gate.blessed:
        raise click.ClickException(
            "the model was NOT blessed (failed thresholds above); nothing was pushed"
        )


@click.command()
@click.option("--output-dir", default=None, help=LAST_RUN_HELP)
@click.option("--config", "config_path", help="YAML or JSON config file.")
def inspect(output_dir, config_path) -> None:
    """Summarize the last run: row counts, rejections by reason, schema anomalies."""
    cfg = run_config(config_path, output_dir)
    _inspect(cfg.metadata_path)


@click.command()
@click.option("--size", type=click.Choice(["tiny", "small", "default", "large"]), default="default")
@click.option("--seed", type=int, default=0)
@click.option("--out", "out_dir", default="outputs/demo", show_default=True)
@click.option("--set", "overrides", multiple=True, help="Override a setting: section.field=value.")
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="After the push, serve the model and tell a shopper's story through the gateway.",
)
@click.pass_context
def demo(ctx, size: str, seed: int, out_dir: str, overrides, serve: bool) -> None:
    """Generate the sample world, run the whole pipeline on it, write the report, then serve the
    pushed model (`rtrec serve-model`) and show the real-time gateway answering one shopper."""
    paths = ctx.invoke(generate, size=size, seed=seed, out_dir=os.path.join(out_dir, "data"))
    cfg = load_config(
        None,
        overrides,
        events=paths["events"],
        items=paths["items"],
        output_dir=os.path.join(out_dir, "run"),
    )
    took = _run_pipeline(cfg)
    _finish(cfg, took)
    if serve:
        from cli.demo_serving import serve_and_tell

        serve_and_tell(cfg.push_directory, paths["items"], os.path.join(out_dir, "serving"),
                       console, overrides)  # fmt: skip


@click.command()
@click.option("--output-dir", default=None, help=LAST_RUN_HELP)
@click.option("--config", "config_path", help="YAML or JSON config file.")
@click.option(
    "--out", "out_path", default=None, help="HTML path (default <output-dir>/report.html)."
)
def report(output_dir, config_path, out_path) -> None:
    """Render a self-contained HTML report of the last evaluation."""
    from cli.run_summary import load_summary

    cfg = run_config(config_path, output_dir)
    path = _write_report(cfg, load_summary(cfg.metadata_path), out_path)
    console.print(f"Wrote {path}", soft_wrap=True)


def _launch_tensorboard(log_dir: str, port: int) -> None:
    """TensorBoard in a child process until it ends (Ctrl+C), its stderr without known noise."""
    import subprocess
    import sys

    command = [sys.executable, *noise.python_warning_args(), "-m", "tensorboard.main"]
    command += ["--logdir", log_dir, "--port", str(port)]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, bufsize=1) as child:
        try:
            noise.drop_noise(child.stderr, sys.stderr)
        except KeyboardInterrupt:
            pass  # the child got the same Ctrl+C and stops
        code = child.wait()
    if code not in (0, -2, 130):  # 0: done; -2 / 130: stopped with Ctrl+C
        raise click.ClickException(f"TensorBoard exited with status {code} (its output above)")


@click.command()
@click.option("--output-dir", default=None, help=LAST_RUN_HELP)
@click.option("--port", default=6006, show_default=True)
def tensorboard(output_dir: str | None, port: int) -> None:
    """Open TensorBoard on the last training run (losses, eval recall@K, item projector)."""
    from cli.run_summary import load_summary

    cfg = run_config(None, output_dir)
    run_dir = load_summary(cfg.metadata_path).artifacts.get("ModelRun")
    if not run_dir:
        raise click.ClickException(
            f"no training run recorded in {cfg.output_dir}: the run stopped before the trainer"
        )
    console.print(
        f"TensorBoard on {run_dir}: http://localhost:{port} (Ctrl+C stops it)", soft_wrap=True
    )
    _launch_tensorboard(run_dir, port)
