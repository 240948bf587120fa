"""Serving latency and throughput of a ``recommend`` signature through ``rtrec serve-model``.

    python benchmarks/serving.py                      # synthetic catalogs of 10k and 100k items
    python benchmarks/serving.py --saved-model PATH   # a real rtrec export (its `recommend`)

For each catalog, side by side in one run: the floor (numpy brute-force top-k over the same
item vectors, in process), the SavedModel called in process, and the REST API of
``rtrec serve-model`` (a separate process, as in production), each with one client and with 16
concurrent clients; REST also with ``--enable_batching``. Reports p50/p95/p99 latency,
throughput and failures, and the first request after a version loads with and without warm-up
records against the steady p50. The synthetic model is shaped like rtrec's: ``history_item_ids``
[batch, 50] strings looked up in a vocabulary, a user projection, a brute-force dot product
against an [N, 64] variable and ``tf.math.top_k`` with a scalar ``k``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import rtrec.env  # noqa: E402,F401
from benchmarks.serving_model import (  # noqa: E402
    build_model,
    export_requests,
    export_twin,
    histories,
    numpy_recommend,
    numpy_top_k,
)
from serving.process import START_TIMEOUT_S, ServerProcess, free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
K, MODEL = 10, "recommender"
BATCHING = "max_batch_size { value: 16 }\nbatch_timeout_micros { value: 1000 }\n" \
           "max_enqueued_batches { value: 64 }\nnum_batch_threads { value: 2 }\n"  # fmt: skip


class Timing:
    """Latencies, busy time and failures of one path, gathered over interleaved rounds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.seconds = 0.0
        self.failures: list[str] = []

    def run(self, call: Callable[[int], object], requests: int, clients: int) -> None:
        """``requests`` calls from ``clients`` threads (a thread pool when clients > 1)."""

        def one(i: int) -> None:
            started = time.perf_counter()
            try:
                call(i)
            except Exception as error:  # counted and reported: the point is zero failures
                self.failures.append(repr(error))
            self.latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        if clients == 1:
            for i in range(requests):
                one(i)
        else:
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(one, range(requests)))
        self.seconds += time.perf_counter() - started

    def stats(self) -> dict:
        q = np.percentile(np.array(self.latencies) * 1000, [50, 95, 99])
        return {
            "p50_ms": round(float(q[0]), 2),
            "p95_ms": round(float(q[1]), 2),
            "p99_ms": round(float(q[2]), 2),
            "req_per_s": round(len(self.latencies) / self.seconds, 1),
            "failures": len(self.failures),
            "failure_samples": sorted(set(self.failures))[:5],
        }


def interleaved(paths: dict[str, Callable[[int], object]], requests: int, clients: int,
                rounds: int = 6) -> dict[str, dict]:  # fmt: skip
    """Each path's stats, measured in alternating rounds so every path sees the same load
    on a shared machine (a slow minute hurts all of them, not the one measured then)."""
    timings = {name: Timing() for name in paths}
    for call in paths.values():  # steady state: not the first calls
        for i in range(5):
            call(i)
    for _ in range(rounds):
        for name, call in paths.items():
            timings[name].run(call, max(requests // rounds, clients), clients)
    return {name: timing.stats() for name, timing in timings.items()}


class ServeModel:
    """``python -m serving.model_server`` in its own process, on a free port, its output in a
    log file (``serving.process.ServerProcess``: an unread pipe would fill up and stall it)."""

    def __init__(self, base: Path, extra: list[str] = ()) -> None:
        from serving.client import ModelClient

        self.port = free_port()
        command = [
            sys.executable, "-m", "serving.model_server", f"--rest_api_port={self.port}",
            "--rest_api_host=127.0.0.1", f"--model_name={MODEL}", f"--model_base_path={base}",
            "--file_system_poll_wait_seconds=1", *extra,
        ]  # fmt: skip
        log = base.parent / f"{base.name}.log"
        self.server = ServerProcess(command, log, env={"PYTHONPATH": str(REPO)}, cwd=REPO).start()
        self.client = ModelClient(f"http://127.0.0.1:{self.port}", MODEL, timeout=30, retries=0)
        try:
            self.client.wait_until_available(timeout=START_TIMEOUT_S)
        except TimeoutError:
            self.close()
            raise RuntimeError(log.read_text(errors="replace")[-3000:]) from None

    def close(self) -> None:
        self.client.close()
        self.server.stop()


def first_requests(server: ServeModel, base: Path, warm: Path, cold: Path, request: Callable,
                   repeats: int) -> dict:  # fmt: skip
    """First request after the server starts, then after each hot-added version, alternately
    with and without warm-up records (the median of ``repeats`` loads of each)."""
    started = time.perf_counter()
    request(None)
    after_start = (time.perf_counter() - started) * 1000
    firsts: dict[bool, list[float]] = {True: [], False: []}
    version = 1
    for _ in range(repeats):
        for warmed in (True, False):
            version += 1
            (base / str(version)).symlink_to(warm if warmed else cold, target_is_directory=True)
            server.client.wait_until_available(version=version, timeout=300)
            _wait_unloaded(server, version)  # the old version's teardown is not the load's cost
            started = time.perf_counter()
            request(version)
            firsts[warmed].append(round((time.perf_counter() - started) * 1000, 1))
    return {
        "first_ms_after_server_start": round(after_start, 1),
        "first_ms_with_warmup": statistics.median(firsts[True]),
        "first_ms_without_warmup": statistics.median(firsts[False]),
        "each_with_warmup": firsts[True],
        "each_without_warmup": firsts[False],
    }


def _wait_unloaded(server: ServeModel, version: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while any(r["state"] != "END" for r in server.client.status() if int(r["version"]) != version):
        if time.monotonic() > deadline:
            raise TimeoutError(f"older versions still loaded next to version {version}")
        time.sleep(0.05)


def bench_catalog(items: int | None, saved_model: str | None, requests: int, workdir: Path,
                  clients: int, repeats: int) -> tuple[list[dict], dict]:  # fmt: skip
    """Every path for one catalog; rows and the first-request numbers."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (a real export uses TF Text ops)

    from trainer.warmup import warmup_path, write_warmup_requests

    label = items if items else "real"
    warm, cold = workdir / f"warm-{label}", workdir / f"cold-{label}"
    twin = export = None
    if saved_model:
        shutil.copytree(saved_model, cold, ignore=shutil.ignore_patterns("assets.extra"))
        loaded = tf.saved_model.load(str(cold))
        export = export_twin(loaded)
        inputs = export_requests(export["ids"], 64, K)
    else:
        twin = build_model(str(cold), items)
        row_of = {item: i for i, item in enumerate(twin["ids"].tolist())}
        inputs = [{"history_item_ids": h, "k": np.int32(K)} for h in histories(twin["ids"], 64)]
        loaded = tf.saved_model.load(str(cold))
    shutil.copytree(saved_model or cold, warm)
    if not os.path.exists(warmup_path(str(warm))):
        write_warmup_requests(str(warm), MODEL, [("recommend", x) for x in inputs[:3]])
    recommend = loaded.signatures["recommend"]
    paths: dict[str, Callable[[int], object]] = {}
    if twin is not None:
        h = [x["history_item_ids"] for x in inputs]
        paths["numpy brute-force (floor)"] = lambda i: numpy_recommend(twin, row_of, h[i % 64], K)
    else:
        # The floor of a real export is its index alone: numpy top-k of the same user vectors
        # (from its user_vectors signature) over the same item vectors; the user tower is
        # timed by itself beside it, so the table shows where recommend's time goes.
        user_vectors = loaded.signatures["user_vectors"]
        tensors = [
            {k: tf.constant(v) for k, v in x.items() if k not in ("k", "exclude_item_ids")}
            for x in inputs
        ]
        for x in tensors:
            x["query"] = tf.constant([""])
        users = [next(iter(user_vectors(**x).values())).numpy() for x in tensors]
        paths["numpy top-k over the export's index (floor)"] = lambda i: numpy_top_k(
            export, users[i % 64], K
        )
        paths["user_vectors in process (user tower)"] = lambda i: user_vectors(**tensors[i % 64])
    paths["SavedModel in process"] = lambda i: recommend(
        **{k: tf.constant(v) for k, v in inputs[i % 64].items()}
    )

    def rest(client, i: int = 0, version: int | None = None):
        return client.predict(inputs[i % 64], signature_name="recommend", version=version)

    params = workdir / "batching.txt"
    params.write_text(BATCHING)
    batching = ["--enable_batching", f"--batching_parameters_file={params}"]
    servers = []
    try:
        for name, extra in (("REST rtrec serve-model", []), ("REST, --enable_batching", batching)):
            base = workdir / f"base-{label}-{len(servers)}"
            base.mkdir()
            (base / "1").symlink_to(warm, target_is_directory=True)
            servers.append((base, ServeModel(base, extra)))
            client = servers[-1][1].client
            paths[name] = lambda i, client=client: rest(client, i)
        base, plain = servers[0]
        first = first_requests(plain, base, warm, cold, lambda v: rest(plain.client, 7, v), repeats)
        rows = []
        for clients_now in (1, clients):
            # One BLAS thread per client: 16 clients x all-core BLAS measures oversubscription.
            with threadpool_limits(1 if clients_now > 1 else None):
                for path, stats in interleaved(paths, requests, clients_now).items():
                    rows.append({"path": path, "items": label, "clients": clients_now, **stats})
    finally:
        for _, server in servers:
            server.close()
    first["steady_p50_ms"] = next(r["p50_ms"] for r in rows if r["path"].startswith("REST"))
    first["items"] = label
    return rows, first


def _inprocess_p50(rows: list[dict], row: dict) -> float:
    """The in-process SavedModel p50 for the same catalog and number of clients."""
    return next(
        r["p50_ms"]
        for r in rows
        if r["path"] == "SavedModel in process"
        and (r["items"], r["clients"]) == (row["items"], row["clients"])
    )


def print_table(rows: list[dict], warmups: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"recommend signature, top-{K}, CPU ({os.cpu_count()} cores)")
    for column in [*rows[0], "p50 vs in-process"]:
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(*map(str, r.values()), f"{r['p50_ms'] / _inprocess_p50(rows, r):.2f}x")
    console = Console(width=160)
    console.print(table)
    warm = Table(title="First REST request after a version loads vs the steady p50")
    for column in warmups[0]:
        warm.add_column(column, justify="right")
    for w in warmups:
        warm.add_row(*map(str, w.values()))
    console.print(warm)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--saved-model", help="a real rtrec export (a version folder)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per case")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--repeats", type=int, default=3, help="hot loads per first-request case")
    parser.add_argument("--out", default="benchmarks/results/serving.json")
    args = parser.parse_args(argv)
    rtrec.env.use_eigen_kernels()  # the in-process paths run the kernels serve-model runs
    rows, warmups = [], []
    with tempfile.TemporaryDirectory() as workdir:
        catalogs = [None] if args.saved_model else args.items
        for items in catalogs:
            r, w = bench_catalog(
                items, args.saved_model, args.requests, Path(workdir), args.clients, args.repeats
            )
            rows += r
            warmups.append(w)
    print_table(rows, warmups)
    result = {
        "rows": rows,
        "first_request": warmups,
        "cpu_count": os.cpu_count(),
        "requests_per_case": args.requests,
        "saved_model": args.saved_model,
        "rest_p50_over_inprocess_p50": {
            f"{r['items']} items, {r['clients']} clients": round(
                r["p50_ms"] / _inprocess_p50(rows, r), 2
            )
            for r in rows
            if r["path"] == "REST rtrec serve-model"
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
