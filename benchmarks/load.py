"""Bounded load generators on loopback: fixed-rate open loop, closed loop (asyncio + aiohttp).

Written by hand rather than with locust: the measurement needs an exact fixed-rate schedule with
latency counted from each request's scheduled time (a stall is not hidden by the generator
waiting for it, i.e. no coordinated omission), and locust's users are closed loops by design.
Both generators stop by themselves: a fixed number of requests, or a fixed time. aiohttp rather
than httpx because the generator shares the cores it measures: it costs about a third of the
CPU per request. ``fixed_rate`` reports its own CPU per request (``generator_cpu_ms``).
"""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
import numpy as np


def quantiles(values: list[float]) -> dict:
    if not values:
        return {"p50_ms": None, "p99_ms": None, "n": 0}
    q = np.percentile(np.array(values) * 1000, [50, 99])
    return {"p50_ms": round(float(q[0]), 2), "p99_ms": round(float(q[1]), 2), "n": len(values)}


def _session(url: str, connections: int, timeout_s: float) -> aiohttp.ClientSession:
    """Keep-alive connections to ``url``, at most ``connections`` of them."""
    return aiohttp.ClientSession(
        base_url=url,
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=timeout_s),
    )


async def fixed_rate(url: str, users: list[str], rate: float, seconds: float,
                     max_in_flight: int) -> dict:  # fmt: skip
    """GET recommendations at ``rate``/s for ``seconds``; latency from each scheduled time."""
    latencies, overheads, model_ms, errors = [], [], [], []
    cpu = time.process_time()
    async with _session(url, max_in_flight, 10.0) as http:
        in_flight = 0

        async def one(due: float, user: str) -> None:
            nonlocal in_flight
            try:
                async with http.get(f"/v1/users/{user}/recommendations",
                                    params={"k": "10"}) as answer:  # fmt: skip
                    await answer.read()
                    if answer.status != 200:
                        errors.append(answer.status)
                        return
                latencies.append(time.perf_counter() - due)
                timing = dict(p.split(";dur=") for p in answer.headers["server-timing"].split(", "))
                app, model = float(timing["app"]), float(timing["model"])
                overheads.append((app - model) / 1000)
                model_ms.append(model / 1000)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                errors.append(repr(error))
            finally:
                in_flight -= 1

        tasks, start = [], time.perf_counter()
        for i in range(int(rate * seconds)):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if in_flight >= max_in_flight:
                errors.append("generator: too many requests in flight")
                continue
            in_flight += 1
            tasks.append(asyncio.create_task(one(due, random.choice(users))))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    cpu_ms = 1000 * (time.process_time() - cpu) / max(len(tasks), 1)
    return {"rate": rate, "seconds": round(elapsed, 1), "requests": int(rate * seconds),
            "errors": len(errors), "error_samples": [str(e) for e in errors[:5]],
            **quantiles(latencies), "gateway_overhead": quantiles(overheads),
            "model_calls": quantiles(model_ms), "generator_cpu_ms": round(cpu_ms, 2)}  # fmt: skip


async def capacity(url: str, users: list[str], clients: int, seconds: float) -> dict:
    """Closed loop: ``clients`` each send the next request when the last answered; the rate
    this machine sustains now, and the latency without queueing (one client)."""
    latencies, errors = [], 0
    async with _session(url, clients, 30.0) as http:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < end:
                started = time.perf_counter()
                async with http.get(f"/v1/users/{random.choice(users)}/recommendations",
                                    params={"k": "10"}) as answer:  # fmt: skip
                    await answer.read()
                    errors += answer.status != 200
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*[worker() for _ in range(clients)])
    return {"clients": clients, "rps": round(len(latencies) / seconds, 1), "errors": errors,
            **quantiles(latencies)}  # fmt: skip
