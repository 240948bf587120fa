"""``rtrec serve-model`` assembled: options -> models loaded -> uvicorn serving the REST API.

:class:`ModelServer` is what the CLI, the tests and the benchmark start. Like
``tensorflow_model_server``, it loads every configured model's aspired versions before it
accepts requests, then polls for new versions in the background. It runs uvicorn in a thread
on a socket it binds itself, so ``rest_api_port=0`` gives a free port (tests run in parallel),
on uvloop and httptools where installed (uvicorn's "auto" choice, as ``uvicorn.run`` makes).

The loaded models are not frozen out of the garbage collector (``gc.freeze()``, which the
gateway does): versions come and go, and a frozen version's reference cycles would never be
collected after it unloads.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

from serving.model_server.app import create_app
from serving.model_server.core import ServerCore
from serving.model_server.metrics import ServerMetrics
from serving.model_server.options import ServerOptions
from serving.tfserving import configs

log = logging.getLogger(__name__)


class ModelServer:
    """A running ``rtrec serve-model``: ``start()``, ``url``, ``stop()`` (or a ``with`` block)."""

    def __init__(self, options: ServerOptions) -> None:
        set_tensorflow_threads(
            options.tensorflow_intra_op_parallelism, options.tensorflow_inter_op_parallelism
        )
        self.options = options
        self.metrics = ServerMetrics()
        metrics = self.metrics
        self.core = ServerCore(
            options.model_server_config(),
            batching=options.batching(),
            enable_warmup=options.enable_model_warmup,
            warmup_iterations=options.num_request_iterations_for_warmup,
            on_state=metrics.observe_state,
            on_batch=lambda m, s, rows, tasks: (
                metrics.batch_rows.labels(m, s).observe(rows),
                metrics.batch_tasks.labels(m, s).observe(tasks),
            ),
            on_warmup=lambda m, v, n: metrics.warmup.labels(m, str(v)).inc(n),
            on_predict=lambda m, v, s, code: metrics.predictions.labels(m, v, s, str(code)).inc(),
        )
        self.app = create_app(
            self.core,
            metrics,
            options.metrics_path(),
            num_threads=options.rest_api_num_threads,
            timeout_ms=options.rest_api_timeout_in_ms,
            max_body_bytes=options.max_body_bytes,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        """The REST API's event loop (uvloop's where installed), once started."""
        self.port = options.rest_api_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ModelServer:
        """Load the models (blocking, as TF Serving does), then serve in a background thread."""
        self.core.poll()
        config_loader = None
        if self.options.model_config_file:
            path = self.options.model_config_file
            config_loader = lambda: configs.load_model_server_config(path)  # noqa: E731
        self.core.start_polling(
            self.options.file_system_poll_wait_seconds,
            config_loader,
            self.options.model_config_file_poll_wait_seconds,
        )
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it each keep-alive response waits ~40 ms for the client's delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.options.rest_api_host, self.options.rest_api_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
        )
        self._server = uvicorn.Server(config)
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(sock, started), name="rest-api", daemon=True
        )
        self._thread.start()
        if not started.wait(30) or not self._server.started:
            raise RuntimeError(f"the REST server did not start on port {self.port}")
        log.info("rtrec serve-model: REST API at %s", self.url)
        return self

    def _serve(self, sock: socket.socket, started: threading.Event) -> None:
        async def run() -> None:
            serving = asyncio.ensure_future(self._server.serve(sockets=[sock]))
            while not self._server.started and not serving.done():
                await asyncio.sleep(0.01)
            started.set()
            await serving

        factory = self._server.config.get_loop_factory()
        self.loop = factory() if factory is not None else asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(run())
        finally:
            self.loop.close()

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C in the CLI)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.core.close()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def set_tensorflow_threads(intra_op: int, inter_op: int) -> None:
    """TF Serving's ``--tensorflow_intra_op_parallelism`` / ``--tensorflow_inter_op_parallelism``.

    0 leaves TensorFlow's choice (a pool as wide as the machine). A small model served beside
    other processes (the gateway, on one host) spends less CPU per request with one or two
    threads: its hundreds of tiny ops gain nothing from a wide pool but its hand-offs, and
    concurrent requests are the parallelism. TensorFlow fixes both before its first op runs.
    """
    import tensorflow as tf

    threading_config = tf.config.threading
    for name, value, get, put in (
        ("intra", intra_op, threading_config.get_intra_op_parallelism_threads,
         threading_config.set_intra_op_parallelism_threads),
        ("inter", inter_op, threading_config.get_inter_op_parallelism_threads,
         threading_config.set_inter_op_parallelism_threads),
    ):  # fmt: skip
        if value < 0:
            raise configs.ConfigError(
                f"--tensorflow_{name}_op_parallelism={value}: give 0 (TensorFlow's choice) or "
                "a number of threads"
            )
        if value == 0 or get() == value:
            continue
        try:
            put(value)
        except RuntimeError as error:  # TensorFlow already ran in this process
            raise configs.ConfigError(
                f"--tensorflow_{name}_op_parallelism={value}: TensorFlow already runs in this "
                f"process with {get() or 'its own choice of'} threads ({error}); set it before "
                "the first model loads"
            ) from None
    log.info(
        "TensorFlow threads: intra-op %s, inter-op %s",
        threading_config.get_intra_op_parallelism_threads() or "TensorFlow's choice",
        threading_config.get_inter_op_parallelism_threads() or "TensorFlow's choice",
    )
