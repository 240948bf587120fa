"""``rtrec serve-model``: the command line, with ``tensorflow_model_server``'s flag names.

The same flags start either server, so a compose file or a shell script can swap
``tensorflow_model_server`` for ``rtrec serve-model`` (REST only: no ``--port`` gRPC server).
Boolean flags take TF Serving's forms: ``--enable_batching``, ``--enable_batching=true|false``.
``main`` is a click command; the ``rtrec`` CLI mounts it as ``serve-model``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Sequence

import click

from serving.model_server.app import DEFAULT_MAX_BODY_BYTES
from serving.model_server.server import ModelServer, ServerOptions
from serving.tfserving.configs import ConfigError


def _bool_flag(name: str, default: bool, text: str):
    return click.option(
        f"--{name}", type=click.BOOL, is_flag=False, flag_value=True, default=default,
        show_default=True, help=text,
    )  # fmt: skip


@click.command(name="serve-model")
@click.option(
    "--rest_api_port",
    type=int,
    default=8501,
    show_default=True,
    help="Port of the REST API (0: a free port).",
)
@click.option("--rest_api_host", default="0.0.0.0", show_default=True, help="Address to bind.")
@click.option(
    "--model_name",
    default="default",
    show_default=True,
    help="Name of the model (ignored with --model_config_file).",
)
@click.option(
    "--model_base_path",
    default="",
    help="Folder of numbered SavedModel versions (ignored with --model_config_file).",
)
@click.option(
    "--model_config_file",
    default="",
    help="A ModelServerConfig text proto, e.g. serving/tfserving/models.config.",
)
@click.option(
    "--model_config_file_poll_wait_seconds",
    type=int,
    default=0,
    show_default=True,
    help="Re-read --model_config_file this often (0: never), for label moves.",
)
@click.option(
    "--file_system_poll_wait_seconds",
    type=int,
    default=1,
    show_default=True,
    help="Look for new versions this often (0: only at start).",
)
@_bool_flag("enable_batching", False, "Batch concurrent predict calls server-side.")
@click.option(
    "--batching_parameters_file",
    default="",
    help="A BatchingParameters text proto (serving/tfserving/batching_parameters.txt).",
)
@click.option(
    "--monitoring_config_file",
    default="",
    help="A MonitoringConfig text proto (Prometheus path); default path without one.",
)
@_bool_flag("enable_model_warmup", True, "Replay assets.extra/tf_serving_warmup_requests.")
@click.option("--num_request_iterations_for_warmup", type=int, default=1, show_default=True)
@click.option(
    "--rest_api_num_threads",
    type=int,
    default=4 * (os.cpu_count() or 1),
    show_default=True,
    help="Threads running requests.",
)
@click.option(
    "--rest_api_timeout_in_ms",
    type=int,
    default=30_000,
    show_default=True,
    help="A request running longer gets a 504 (0: no limit).",
)
@click.option(
    "--max_body_bytes",
    type=int,
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    help="Larger request bodies get a 413 (not a TF Serving flag).",
)
def main(**flags) -> None:
    """Serve SavedModels on TF Serving 2.16's REST API (status, metadata, predict)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        server = ModelServer(ServerOptions(**flags))
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    server.start()
    click.echo(f"rtrec serve-model: REST API on port {server.port}; Ctrl-C stops it.")
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def run(argv: Sequence[str] | None = None) -> None:
    """Entry point taking an argv list (``python -m serving.model_server --rest_api_port=...``)."""
    main.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="rtrec serve-model")
