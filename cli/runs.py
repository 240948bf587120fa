"""Where a run's outputs are: the config saved beside them, and which run was the last one.

`rtrec run` and `rtrec demo` save their config in the output directory and record that
directory in ``outputs/last_run.json`` (relative to the current directory, as every default
path is), so `rtrec inspect`, `report` and `tensorboard` find the last run without flags,
wherever it wrote to. Nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import json
import os

from rtrec import config as config_lib

RUN_CONFIG = "rtrec_config.json"
LAST_RUN_FILE = os.path.join("outputs", "last_run.json")


def record_run(cfg: config_lib.RtrecConfig) -> None:
    """Save ``cfg`` beside the run's outputs and make it the last run (before it starts, so a
    failed run can be inspected too)."""
    os.makedirs(cfg.output_dir, exist_ok=True)
    with open(os.path.join(cfg.output_dir, RUN_CONFIG), "w", encoding="utf-8") as handle:
        json.dump(cfg.to_dict(), handle, indent=2)
    os.makedirs(os.path.dirname(LAST_RUN_FILE), exist_ok=True)
    with open(LAST_RUN_FILE, "w", encoding="utf-8") as handle:
        json.dump({"output_dir": os.path.abspath(cfg.output_dir)}, handle)


def last_output_dir() -> str | None:
    """The output directory of the last run started from this directory, if it still exists."""
    try:
        with open(LAST_RUN_FILE, encoding="utf-8") as handle:
            output_dir = json.load(handle).get("output_dir")
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, AttributeError) as err:
        raise ValueError(
            f"{LAST_RUN_FILE} is not a last-run record ({err}); delete it, or pass --output-dir"
        ) from err
    return output_dir if output_dir and os.path.isdir(output_dir) else None


def run_config(config_path: str | None, output_dir: str | None) -> config_lib.RtrecConfig:
    """The config of the run to look at.

    The run is ``output_dir`` if given, else the ``--config`` file's output_dir, else the last
    run, else the default output_dir. Without ``--config``, the run's saved config is used,
    with output_dir set to where it was found (the saved one may be relative to elsewhere).
    """
    if output_dir is None and config_path is None:
        output_dir = last_output_dir()
    overrides = [f"output_dir={json.dumps(output_dir)}"] if output_dir is not None else []
    cfg = config_lib.load(config_path, overrides)
    saved = os.path.join(cfg.output_dir, RUN_CONFIG)
    if config_path or not os.path.exists(saved):
        return cfg
    return dataclasses.replace(config_lib.load(saved), output_dir=cfg.output_dir)
