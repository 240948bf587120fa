"""A content-addressed cache of text embeddings: text hash -> vector, per encoder fingerprint.

A frozen encoder maps the same text to the same vector, so a catalog version only pays for the
texts it has not seen before. Entries live as ``.npz`` shards under
``<cache_dir>/<fingerprint>/``; shards are only ever added, so concurrent runs never corrupt it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import uuid

import numpy as np


def text_hash(text: str) -> str:
    """Stable key of a text (SHA-1, 20 hex chars)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def fingerprint(kind: str, max_tokens: int) -> str:
    """Cache namespace: which encoder and how it truncates (different settings, other vectors)."""
    return f"{kind}-t{max_tokens}"


def load(cache_dir: str, namespace: str) -> dict[str, np.ndarray]:
    """Every cached vector of ``namespace`` (empty when there is no cache yet)."""
    found: dict[str, np.ndarray] = {}
    if not cache_dir:
        return found
    for path in sorted(glob.glob(os.path.join(cache_dir, namespace, "*.npz"))):
        with np.load(path) as shard:
            for key, vector in zip(shard["keys"], shard["vectors"]):
                found[str(key)] = vector
    return found


def add(cache_dir: str, namespace: str, entries: dict[str, np.ndarray]) -> str | None:
    """Write new entries as one new shard; returns its path (None when nothing to add)."""
    if not cache_dir or not entries:
        return None
    folder = os.path.join(cache_dir, namespace)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"part-{uuid.uuid4().hex}.npz")
    keys = np.array(sorted(entries))
    vectors = np.stack([entries[k] for k in keys]).astype(np.float32)
    tmp = path + ".tmp.npz"
    np.savez(tmp, keys=keys, vectors=vectors)
    os.replace(tmp, path)
    return path
