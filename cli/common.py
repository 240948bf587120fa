"""What every command shares: the console, loading the run config, finding the last run."""

from __future__ import annotations

import json
import os

import click
from rich.console import Console

from cli import runs
from rtrec import config as config_lib

console = Console()
LAST_RUN_HELP = "Output dir of the run (default: the last run started here)."


def load_config(config_path, overrides, **fields) -> config_lib.RtrecConfig:
    """The run's config; a bad setting stops the command here, before anything runs."""
    extra = [f"{k}={json.dumps(v)}" for k, v in fields.items() if v is not None]
    try:
        return config_lib.load(config_path, [*extra, *overrides])
    except ValueError as err:
        raise click.UsageError(str(err)) from err


def run_config(config_path, output_dir) -> config_lib.RtrecConfig:
    """The run to look at (``--output-dir``, ``--config``, else the last run), with its config."""
    try:
        cfg = runs.run_config(config_path, output_dir)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    if not os.path.exists(cfg.metadata_path):
        raise click.ClickException(
            f"no run found in {cfg.output_dir} (no {os.path.basename(cfg.metadata_path)}): run "
            "`rtrec demo` or `rtrec run` from this directory first, or pass --output-dir"
        )
    return cfg
