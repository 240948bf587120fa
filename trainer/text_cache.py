"""Text vectors on disk: the TextEmbeddings artifact's file and a content-addressed cache.

A frozen encoder maps the same text to the same vector, so a catalog version only pays for the
texts it has not seen before. Cache entries live as ``.npz`` shards under
``<cache_dir>/<fingerprint>/``; shards are only ever added, so concurrent runs never corrupt it.
The artifact (``EMBEDDINGS_FILE``) is written by the TextEmbedder component and read by the
trainer; both go through this module, so its format has one home.
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


EMBEDDINGS_FILE = "embeddings.npz"


def save_embeddings(uri: str, texts: dict[str, str], vectors: dict[str, np.ndarray]) -> int:
    """Write the artifact: every text (hash -> text) with its vector; returns the count."""
    keys = sorted(texts)
    np.savez(
        os.path.join(uri, EMBEDDINGS_FILE),
        keys=np.array(keys),
        texts=np.array([texts[k] for k in keys]),
        vectors=np.stack([vectors[k] for k in keys]).astype(np.float32),
    )
    return len(keys)


def load_embeddings(uri: str) -> tuple[list[str], np.ndarray]:
    """The texts of the artifact and their vectors [n, dim], as the trainer reads them."""
    with np.load(os.path.join(uri, EMBEDDINGS_FILE)) as data:
        return data["texts"].tolist(), data["vectors"]
