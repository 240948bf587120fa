"""The real-time gateway under load, with ``rtrec serve-model`` on the same machine.

    python benchmarks/gateway.py                      # the tiny test model, trained here
    python benchmarks/gateway.py --saved-model PATH   # a real rtrec export (a version folder)

Measures, on loopback, against separate ``rtrec serve-model`` and ``rtrec gateway`` processes:
recommendation latency at a fixed request rate (open loop: request i is due at i / rate
whatever happened before, and its latency counts from then, so a stall is not hidden by the
generator waiting; at most ``--max-in-flight`` outstanding, beyond which a request is counted as
an error), event ingestion throughput with batches of 1 and of 100, freshness (POST a view of
the user's top item, then GET until the list reflects it, i.e. leaves it out as seen), and the
gateway's own time beside the model calls (its ``Server-Timing`` header: app minus model).
The load generators are in ``benchmarks/load.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from benchmarks.load import capacity, fixed_rate, quantiles  # noqa: E402
from serving.process import ServerProcess, free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODEL = "rtrec"


def tiny_export(path: Path) -> tuple[Path, int]:
    """The tests' tiny model (tests/tiny_model.py), trained and exported as version 1."""
    import rtrec.env  # noqa: F401
    from tests import tiny_model as tm
    from trainer.signatures import export

    encoder = tm.make_encoder()
    catalog = tm.make_catalog(encoder)
    hp = tm.make_hparams()
    model, _ = tm.train_model(catalog, hp)
    export(model, encoder, str(path / "1"))
    return path, hp.history_length


def catalog_of(http: httpx.Client, users: int = 20) -> list[str]:
    """Item ids the model recommends (cold-start lists of a few users at k = 100): the events
    the benchmark posts must be on catalog items, and no catalog file is assumed."""
    found: dict[str, None] = {}
    for n in range(users):
        answer = http.get(f"/v1/users/catalog-probe-{n}/recommendations", params={"k": 100})
        found.update(dict.fromkeys(i["item_id"] for i in answer.json()["items"]))
    return list(found)


class Process(ServerProcess):
    """A server started and healthy, or an error with its log's tail."""

    def __init__(self, command: list[str], log: Path, ready_url: str, env: dict) -> None:
        super().__init__(command, log, env, cwd=REPO)
        self.start()
        try:
            self.wait_healthy(ready_url, timeout_s=600)
        except (RuntimeError, TimeoutError):
            self.stop()
            raise

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingestion(http: httpx.Client, items: list[str], batch: int, batches: int) -> dict:
    now, errors = time.time(), 0
    started = time.perf_counter()
    for b in range(batches):
        events = [{"user_id": f"ingest-{batch}-{b}-{n % 7}", "item_id": random.choice(items),
                   "event_type": "view", "timestamp": now - 3000 + n}
                  for n in range(batch)]  # fmt: skip
        answer = http.post("/v1/events", json={"events": events})
        errors += answer.status_code != 200 or answer.json()["accepted"] != batch
    seconds = time.perf_counter() - started
    return {"batch": batch, "batches": batches, "events_per_s": round(batch * batches / seconds, 1),
            "batch_ms": round(1000 * seconds / batches, 2), "errors": errors}  # fmt: skip


def freshness(http: httpx.Client, trials: int) -> dict:
    """POST a view of the user's top item; time until a GET no longer recommends it."""
    times, errors, stale_reads = [], 0, 0
    for n in range(trials):
        user = f"fresh-{n}"
        top = http.get(f"/v1/users/{user}/recommendations", params={"k": 10}).json()["items"][0]
        started = time.perf_counter()
        event = {"user_id": user, "item_id": top["item_id"], "event_type": "view",
                 "timestamp": time.time()}  # fmt: skip
        errors += http.post("/v1/events", json={"events": [event]}).status_code != 200
        while True:
            shown = http.get(f"/v1/users/{user}/recommendations", params={"k": 10}).json()
            if top["item_id"] not in [i["item_id"] for i in shown["items"]]:
                break
            stale_reads += 1
            if time.perf_counter() - started > 5:
                errors += 1
                break
        times.append(time.perf_counter() - started)
    return {**quantiles(times), "errors": errors, "stale_reads": stale_reads}


def run(args: argparse.Namespace, work: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RTREC_GATEWAY_TOKEN": "bench"}
    env.setdefault("RTREC_PSEUDONYM_KEY", "benchmark-key")
    if args.saved_model:
        base = work / "models" / MODEL
        shutil.copytree(args.saved_model, base / "1")
        history_length = args.history_length
    else:
        base, history_length = tiny_export(work / "models" / MODEL)
    model_port, gateway_port = free_port(), free_port()
    model_url = f"http://127.0.0.1:{model_port}"
    intra, inter = args.tf_threads
    server = Process([sys.executable, "-m", "cli.main", "serve-model", "--rest_api_host",
                      "127.0.0.1", f"--rest_api_port={model_port}", f"--model_name={MODEL}",
                      f"--model_base_path={base}", f"--tensorflow_intra_op_parallelism={intra}",
                      f"--tensorflow_inter_op_parallelism={inter}"], work / "serve-model.log",
                     f"{model_url}/v1/models/{MODEL}", env)  # fmt: skip
    url = f"http://127.0.0.1:{gateway_port}"
    store = args.store or f"sqlite:///{work / 'gateway.db'}"
    gateway = Process([sys.executable, "-m", "cli.main", "gateway", "--model-url", model_url,
                       "--model-name", MODEL, "--store", store, "--event-log",
                       str(work / "log"), "--port", str(gateway_port), "--set",
                       f"trainer.hparams.history_length={history_length}"],
                      work / "gateway.log", f"{url}/readyz", env)  # fmt: skip
    try:
        headers = {"Authorization": "Bearer bench"}
        with httpx.Client(base_url=url, headers=headers, timeout=30.0) as http:
            items = catalog_of(http)
            users = [f"user-{n}" for n in range(args.users)]
            for start in range(0, len(users), 20):  # histories for most users (some stay cold)
                events = [{"user_id": u, "item_id": random.choice(items), "event_type": "view",
                           "timestamp": time.time() - 600 + j}
                          for u in users[start:start + 15] for j in range(5)]  # fmt: skip
                http.post("/v1/events", json={"events": events}).raise_for_status()
            for user in users[:50]:  # warm the catalog caches and the connection pools
                http.get(f"/v1/users/{user}/recommendations", params={"k": 10})
            ingest = [ingestion(http, items, 1, args.small_batches),
                      ingestion(http, items, 100, args.big_batches)]  # fmt: skip
            fresh = freshness(http, args.freshness)
        closed = [asyncio.run(capacity(url, users, n, args.capacity_s)) for n in (1, 4)]
        latency = []
        for rate in args.rate:
            before = gateway.cpu_seconds(), server.cpu_seconds()
            row = asyncio.run(fixed_rate(url, users, rate, args.duration, args.max_in_flight))
            row["cpu_ms_per_request"] = {  # per answered request: errors cost CPU too
                name: round(1000 * (proc.cpu_seconds() - start) / max(row["n"], 1), 2)
                for name, proc, start in (("gateway", gateway, before[0]),
                                          ("model_server", server, before[1]))
            }  # fmt: skip
            row["cpu_ms_per_request"]["load_generator"] = row.pop("generator_cpu_ms")
            latency.append(row)
    finally:
        gateway.stop()
        server.stop()
    return {
        "recommend": latency, "capacity": closed, "ingestion": ingest, "freshness": fresh,
        "model": args.saved_model or "tiny test model", "store": store.split(":")[0],
        "tensorflow_threads": {"intra_op": intra, "inter_op": inter},
        "history_length": history_length, "catalog_items": len(items), "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    fresh = result["freshness"]
    table = Table(title=f"rtrec gateway on {result['cpus']} CPUs (load {result['load_average']}),"
                        f" {result['model']}, {result['store']} store")  # fmt: skip
    for column in ("measure", "p50", "p99", "other"):
        table.add_column(column, justify="left" if column in ("measure", "other") else "right")
    for rec in result["recommend"]:
        over, model = rec["gateway_overhead"], rec["model_calls"]
        cpu = rec["cpu_ms_per_request"]
        other = (
            f"{rec['requests']} requests, {rec['errors']} errors; CPU per request: "
            f"gateway {cpu['gateway']} ms, model server {cpu['model_server']} ms, "
            f"load generator {cpu['load_generator']} ms"
        )
        table.add_row(f"recommendations at {rec['rate']:g}/s for {rec['seconds']}s",
                      f"{rec['p50_ms']} ms", f"{rec['p99_ms']} ms", other)  # fmt: skip
        table.add_row("  time in model calls", f"{model['p50_ms']} ms", f"{model['p99_ms']} ms",
                      "")  # fmt: skip
        table.add_row("  gateway's own time", f"{over['p50_ms']} ms", f"{over['p99_ms']} ms",
                      "inside the gateway, beside the model calls")  # fmt: skip
    for row in result["capacity"]:
        table.add_row(f"closed loop, {row['clients']} client(s)", f"{row['p50_ms']} ms",
                      f"{row['p99_ms']} ms", f"{row['rps']} requests/s sustained, "
                      f"{row['errors']} errors")  # fmt: skip
    table.add_row("freshness (POST, then GET reflects it)", f"{fresh['p50_ms']} ms",
                  f"{fresh['p99_ms']} ms", f"{fresh['n']} trials, {fresh['errors']} errors, "
                  f"{fresh['stale_reads']} stale reads")  # fmt: skip
    for row in result["ingestion"]:
        table.add_row(f"ingestion, batches of {row['batch']}", f"{row['batch_ms']} ms/batch", "",
                      f"{row['events_per_s']:,} events/s, {row['errors']} errors")  # fmt: skip
    Console().print(table)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved-model", help="a real rtrec export (a version folder)")
    parser.add_argument(
        "--history-length",
        type=int,
        default=50,
        help="the export's trainer.hparams.history_length (--saved-model)",
    )
    parser.add_argument("--store", help="store URL (default: SQLite in a temp dir)")
    parser.add_argument(
        "--tf-threads",
        type=int,
        nargs=2,
        default=[1, 2],
        metavar=("INTRA", "INTER"),
        help="serve-model's --tensorflow_intra_op_parallelism and _inter_op_ (0: TF's choice)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        nargs="+",
        default=[100.0],
        help="recommendations per second (several: one run each)",
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds at each rate")
    parser.add_argument("--capacity-s", type=float, default=10.0, help="closed-loop seconds")
    parser.add_argument("--max-in-flight", type=int, default=200)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--small-batches", type=int, default=500, help="POSTs of 1 event")
    parser.add_argument("--big-batches", type=int, default=30, help="POSTs of 100 events")
    parser.add_argument("--freshness", type=int, default=200, help="freshness trials")
    parser.add_argument("--out", default="benchmarks/results/gateway.json")
    args = parser.parse_args(argv)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="rtrec-gateway-bench-") as work:
        result = run(args, Path(work))
    print_table(result)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
