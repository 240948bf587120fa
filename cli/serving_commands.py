"""`rtrec gateway`, `rtrec ab-report` and `rtrec skew`: the real-time gateway, its A/B readout
and the check of what it served against what the model trained on.

Both import their stack (FastAPI, uvicorn, the store clients, statsmodels) only when they run,
so `rtrec --help` stays light. Every flag is a shortcut for a ``gateway.*`` setting of the run
config; ``--config`` and ``--set`` reach all of them (arms, limits).
"""

from __future__ import annotations

import logging

import click

from cli.common import console, load_config


@click.command()
@click.option("--config", "config_path", help="YAML or JSON config file (the run's).")
@click.option("--model-url", help="TF Serving / rtrec serve-model REST address.")
@click.option("--model-name", help="Model name on that server.")
@click.option("--store", help="sqlite:///PATH or redis://HOST:PORT/DB.")
@click.option("--event-log", help="Folder of the event, item and tombstone logs.")
@click.option("--host", help="Address to bind.")
@click.option("--port", type=int, help="Port to listen on.")
@click.option("--insecure", is_flag=True, help="Allow writes without a token (local trials).")
@click.option("--set", "overrides", multiple=True, help="Override a setting: section.field=value.")
def gateway(config_path, model_url, model_name, store, event_log, host, port, insecure,
            overrides) -> None:  # fmt: skip
    """Serve the real-time gateway: events in, fresh recommendations out.

    Write endpoints need 'Authorization: Bearer $RTREC_GATEWAY_TOKEN'; without the variable the
    gateway refuses to start unless --insecure is given.
    """
    flags = {"model_url": model_url, "model_name": model_name, "store": store,
             "event_log": event_log, "host": host, "port": port}  # fmt: skip
    cfg = load_config(config_path, overrides, **{f"gateway.{k}": v for k, v in flags.items()})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from serving.gateway.ab import ExperimentConfigError
    from serving.gateway.server import TokenMissingError, serve
    from serving.gateway.store import StoreError

    try:
        serve(cfg, insecure=insecure)
    except TokenMissingError as err:
        raise click.UsageError(str(err)) from None
    except (StoreError, ExperimentConfigError, OSError) as err:
        raise click.ClickException(str(err)) from None


@click.command("ab-report")
@click.option("--store", required=True, help="The gateway's store URL.")
@click.option("--out", "out_json", help="Also write the report as JSON here.")
@click.option("--control", help="The control arm (default: 'control', else the first).")
@click.option("--since", type=float, help="Only impressions from this Unix time on.")
def ab_report(store, out_json, control, since) -> None:
    """CTR per A/B arm with Wilson intervals and a two-proportion z-test against control."""
    from serving.gateway.ab_report import run_ab_report
    from serving.gateway.store import StoreError

    try:
        run_ab_report(store, out_json, console, control=control, since=since)
    except StoreError as err:
        raise click.ClickException(str(err)) from None


@click.command()
@click.option(
    "--requests",
    "requests_path",
    default=None,
    help="The gateway's request log (default <gateway.event_log>/requests).",
)
@click.option("--output-dir", default=None, help="The run to compare with (default: the last).")
@click.option("--config", "config_path", help="YAML or JSON config file.")
def skew(requests_path, output_dir, config_path) -> None:
    """Training/serving skew: the gateway's served histories against the run's training data."""
    import os

    from cli.common import run_config
    from cli.run_summary import load_summary
    from pipeline.skew import SKEW_DIR, check_skew, read_requests

    cfg = run_config(config_path, output_dir)
    summary = load_summary(cfg.metadata_path)
    missing = [t for t in ("ExampleStatistics", "Schema") if t not in summary.artifacts]
    if missing:
        raise click.ClickException(f"the run in {cfg.output_dir} has no {' or '.join(missing)}")
    path = requests_path or os.path.join(cfg.gateway.event_log, "requests")
    try:
        rows = read_requests(path)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    out = os.path.join(cfg.output_dir, SKEW_DIR)
    found = check_skew(summary.artifacts["ExampleStatistics"], summary.artifacts["Schema"], rows,
                       cfg.drift.skew_linf, out)  # fmt: skip
    console.print(f"{found['requests']:,} logged requests from {path} against the training split "
                  f"(L-infinity threshold {found['threshold']}):", soft_wrap=True)  # fmt: skip
    for feature, distance in sorted(found["distances"].items()):
        flag = "[red]SKEW[/]" if feature in found["anomalies"] else "ok"
        console.print(f"  {feature}: {distance:.4f} {flag}")
    console.print(f"Wrote {out} (shown by rtrec inspect)", soft_wrap=True)
    if found["anomalies"]:
        raise click.ClickException("serving skew above the threshold: " + "; ".join(
            f"{k}: {v}" for k, v in found["anomalies"].items()))  # fmt: skip
