"""The serving index at catalog scale: a dense [items, width] index against the dense + sparse one.

    python benchmarks/index.py --items 5000 100000 1000000 --out benchmarks/results/index.json

Served vectors are shaped like the demo model's: 64 dense tower floats, then affinity columns
(103 categories with one per item, 512 words with 7 per item; ``trainer/affinity.py``). For
each catalog size, side by side in one run with one user per request and top-10: the numpy
floor (a dense dot product and ``argpartition``), the dense index the export held before
(``MatMul`` + ``TopKV2`` over [items, width], what TFRS ``BruteForce`` does) and
``trainer.index.CatalogIndex`` (the tower part dense, the affinity part sparse). Reports p50 /
p99 latency and the bytes each index holds, and checks that both TF indexes rank alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import rtrec.env  # noqa: E402,F401
from benchmarks.serving_model import numpy_top_k  # noqa: E402
from benchmarks.tables import print_and_save  # noqa: E402

DENSE, CATEGORIES, WORDS, WORDS_PER_ITEM, K = 64, 103, 512, 7, 10


def served_vectors(items: int, seed: int = 0) -> np.ndarray:
    """[items, 679] vectors with the served layout: unit tower part, category, words."""
    rng = np.random.default_rng(seed)
    out = np.zeros((items, DENSE + CATEGORIES + WORDS), np.float32)
    tower = rng.standard_normal((items, DENSE)).astype(np.float32)
    out[:, :DENSE] = tower / np.linalg.norm(tower, axis=1, keepdims=True)
    out[np.arange(items), DENSE + rng.integers(0, CATEGORIES, items)] = 1.0
    words = np.argsort(rng.random((items, WORDS)), axis=1)[:, :WORDS_PER_ITEM]
    out[np.arange(items)[:, None], DENSE + CATEGORIES + words] = 1.0
    return out


def _timed(call, requests: int) -> dict:
    call(0)  # trace / warm caches
    times = []
    for i in range(requests):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 3),
    }


def bench(items: int, requests: int) -> list[dict]:
    import tensorflow as tf

    from trainer.index import CatalogIndex

    vectors = served_vectors(items)
    ids = np.array([f"item-{i}" for i in range(items)])
    rng = np.random.default_rng(1)
    users = [rng.standard_normal((1, vectors.shape[1])).astype(np.float32) for _ in range(16)]
    user_tensors = [tf.constant(u) for u in users]

    twin = {"ids": ids, "vectors": vectors}

    dense = tf.Variable(vectors, trainable=False)

    @tf.function(input_signature=[tf.TensorSpec([None, vectors.shape[1]], tf.float32)])
    def dense_top_k(user):
        return tf.math.top_k(tf.matmul(user, dense, transpose_b=True), k=K).indices

    index = CatalogIndex(vectors, ids, dense_width=DENSE)
    no_exclusions = tf.fill([1, 1], tf.constant(-1, tf.int64))

    @tf.function(input_signature=[tf.TensorSpec([None, vectors.shape[1]], tf.float32)])
    def split_top_k(user):
        return index.top_k(user, no_exclusions, tf.constant(K))[0]

    for user in user_tensors[:4]:  # both TF indexes rank alike (ties aside)
        expected = ids[dense_top_k(user).numpy()[0]]
        got = split_top_k(user).numpy()[0].astype(str)
        assert len(set(expected) & set(got)) >= K - 1, (expected, got)
    sparse_bytes = index.sparse_indices.numpy().nbytes + index.sparse_values.numpy().nbytes
    layouts = [
        ("numpy dense top-k (floor)", lambda i: numpy_top_k(twin, users[i % 16], K),
         vectors.nbytes),
        ("TF dense index (MatMul + TopKV2)", lambda i: dense_top_k(user_tensors[i % 16]),
         vectors.nbytes),
        ("rtrec CatalogIndex (dense + sparse)", lambda i: split_top_k(user_tensors[i % 16]),
         index.dense.numpy().nbytes + sparse_bytes),
    ]  # fmt: skip
    timings = {name: [] for name, _, _ in layouts}
    rounds = 4  # interleaved, so a noisy moment does not favour one layout
    for _ in range(rounds):
        for name, call, _ in layouts:
            timings[name].append(_timed(call, max(1, requests // rounds)))
    return [
        {
            "layout": name,
            "items": items,
            "p50_ms": round(statistics.median(t["p50_ms"] for t in timings[name]), 3),
            "p99_ms": round(max(t["p99_ms"] for t in timings[name]), 3),
            "index_mb": round(size / 2**20, 1),
            "bytes_per_item": round(size / items),
        }
        for name, _, size in layouts
    ]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[5_000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per layout")
    parser.add_argument("--out", default="benchmarks/results/index.json")
    args = parser.parse_args(argv)
    rows = []
    for items in args.items:
        rows += bench(items, args.requests)
    print_and_save(
        rows, f"Serving index, top-{K}, {DENSE + CATEGORIES + WORDS}-wide served vectors",
        rate="p50_ms", label="layout", out=args.out, group="items",
    )  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
