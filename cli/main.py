"""The `rtrec` command line: the top layer, over the pipeline, the servers and the benchmarks.

Only click, rich and the config load at start-up: each command imports what it needs
(TensorFlow, TFX, Beam, ML Metadata) when it runs, so `rtrec --help` takes well under 2 s.
"""

from __future__ import annotations

import click

from cli import (
    config_commands,
    data_commands,
    noise,
    orchestration_commands,
    pipeline_commands,
    serving_commands,
)
from cli.common import console
from rtrec import env as _env  # noqa: F401  (tf-keras before anything imports TensorFlow)
from serving.model_server.flags import main as serve_model


@click.group()
def main() -> None:
    """rtrec: from raw behaviour logs to a real-time recommender on TF Serving."""
    noise.silence_known_noise()


for command in (
    data_commands.generate,
    data_commands.movielens,
    pipeline_commands.run,
    pipeline_commands.retrain,
    pipeline_commands.demo,
    pipeline_commands.inspect,
    pipeline_commands.report,
    pipeline_commands.tensorboard,
    orchestration_commands.compile_kubeflow,
    serve_model,
    config_commands.config,
    serving_commands.gateway,
    serving_commands.ab_report,
    serving_commands.skew,
):
    main.add_command(command)


@main.group()
def bench() -> None:
    """Benchmarks (quality; speed benchmarks live in benchmarks/)."""


@bench.command("quality")
@click.option("--events", required=True, help="Events in the input contract.")
@click.option("--items", required=True, help="Item catalog in the input contract.")
@click.option("--out", "out_path", default="outputs/quality.json", show_default=True)
@click.option(
    "--protocol",
    "protocols",
    multiple=True,
    type=click.Choice(["leave_last_out", "temporal"]),
    help="Repeat for several (default: both).",
)
@click.option("--models", multiple=True, help="Repeat for several (default: all).")
@click.option("--encoder", default="bert", show_default=True, help="bert, tfidf or tiny-bert.")
@click.option("--rtrec-set", "rtrec_set", multiple=True, help="rtrec hyperparameter name=value.")
def bench_quality(events, items, out_path, protocols, models, encoder, rtrec_set) -> None:
    """Popularity, ItemKNN, EASE, content-only and rtrec side by side on one split."""
    from benchmarks.quality import MODELS, parse_settings, run_quality

    run_quality(
        events,
        items,
        out_path,
        protocols=protocols or ("leave_last_out", "temporal"),
        models=models or MODELS,
        encoder=encoder,
        console=console,
        rtrec_settings=parse_settings(rtrec_set),
    )


if __name__ == "__main__":
    main()
