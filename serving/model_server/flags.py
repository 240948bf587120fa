"""``rtrec serve-model``: the command line, with ``tensorflow_model_server``'s flag names.

The same flags start either server, so a compose file or a shell script can swap
``tensorflow_model_server`` for ``rtrec serve-model`` (REST only: no ``--port`` gRPC server).
Boolean flags take TF Serving's forms: ``--enable_batching``, ``--enable_batching=true|false``.
``main`` is a click command; the ``rtrec`` CLI mounts it as ``serve-model``. Defaults come from
:class:`ServerOptions`, and TensorFlow is imported only when the server starts.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
from collections.abc import Sequence

import click

from serving.model_server.options import ServerOptions

HELP = {
    "rest_api_port": "Port of the REST API (0: a free port).",
    "rest_api_host": "Address to bind.",
    "model_name": "Name of the model (ignored with --model_config_file).",
    "model_base_path": "Folder of numbered SavedModel versions (ignored with --model_config_file).",
    "model_config_file": "A ModelServerConfig text proto, e.g. serving/tfserving/models.config.",
    "model_config_file_poll_wait_seconds": "Re-read --model_config_file this often (0: never).",
    "file_system_poll_wait_seconds": "Look for new versions this often (0: only at start).",
    "enable_batching": "Batch concurrent predict calls server-side.",
    "batching_parameters_file": "A BatchingParameters text proto (batching_parameters.txt).",
    "monitoring_config_file": "A MonitoringConfig text proto (Prometheus path).",
    "enable_model_warmup": "Replay assets.extra/tf_serving_warmup_requests on load.",
    "num_request_iterations_for_warmup": "Times each warm-up record is replayed.",
    "rest_api_num_threads": "Threads running requests.",
    "rest_api_timeout_in_ms": "A request running longer gets a 504 (0: no limit).",
    "tensorflow_intra_op_parallelism": "Threads within one TensorFlow op (0: TensorFlow picks).",
    "tensorflow_inter_op_parallelism": "Threads running independent ops (0: TensorFlow picks).",
    "max_body_bytes": "Larger request bodies get a 413 (not a TF Serving flag).",
}


def _options(command):
    """One click option per ServerOptions field, typed and defaulted by the dataclass."""
    for field in reversed(dataclasses.fields(ServerOptions)):
        kind = {"int": int, "str": str, "bool": click.BOOL}[str(field.type)]
        extra = {"is_flag": False, "flag_value": True} if kind is click.BOOL else {}
        command = click.option(
            f"--{field.name}", type=kind, default=field.default, show_default=True,
            help=HELP[field.name], **extra,
        )(command)  # fmt: skip
    return command


@click.command(name="serve-model")
@_options
def main(**flags) -> None:
    """Serve SavedModels on TF Serving 2.16's REST API (status, metadata, predict)."""
    from rtrec.env import use_eigen_kernels

    use_eigen_kernels()  # before TensorFlow is imported (by the server's modules)
    from serving.model_server.server import ModelServer
    from serving.tfserving.configs import ConfigError

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
