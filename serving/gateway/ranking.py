"""Merging, diversifying and explaining a ranked list: small numpy functions over item vectors.

Scores are dot products of the user vector with served item vectors (the model's own scores,
so catalog and added items compare exactly). Diversity is maximal marginal relevance
(Carbonell & Goldstein, 1998): each next item maximizes ``(1 - λ) * relevance - λ * (largest
cosine to an item already picked)``, relevance being the score min-max scaled over the
candidates so both terms live in [0, 1]-like ranges; λ = 0 keeps the model's order. A reason is
the history item whose vector is closest (cosine) to the recommended item's. Written by hand: a
few lines of numpy that no library offers in this form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rtrec import contract as c

POPULAR, NEW_ITEM, MATCHES_QUERY = "popular", "new item", "matches query"
_VERBS = {
    c.VIEW: "viewed",
    c.CLICK: "clicked",
    c.ADD_TO_CART: "added to cart",
    c.PURCHASE: "bought",
    c.RATE: "rated",
}


@dataclass
class Candidate:
    item_id: str
    score: float
    added: bool = False
    """Added through the API (not in the model's catalog)."""


def merge(lists: Sequence[Sequence[Candidate]], exclude: set[str]) -> list[Candidate]:
    """One list by score (highest first), each id once (its best score), ``exclude`` left out."""
    best: dict[str, Candidate] = {}
    for candidates in lists:
        for cand in candidates:
            if cand.item_id in exclude:
                continue
            if cand.item_id not in best or cand.score > best[cand.item_id].score:
                best[cand.item_id] = cand
    return sorted(best.values(), key=lambda x: (-x.score, x.item_id))


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def mmr(scores: np.ndarray, vectors: np.ndarray, k: int, diversity: float) -> list[int]:
    """Indices of ``k`` candidates picked by MMR with weight ``diversity`` on novelty."""
    n = len(scores)
    k = min(k, n)
    if diversity <= 0 or n <= 1:
        return list(np.argsort(-scores, kind="stable")[:k])
    spread = scores.max() - scores.min()
    relevance = (scores - scores.min()) / spread if spread > 0 else np.ones(n)
    unit = _unit(vectors)
    similarity = unit @ unit.T
    picked: list[int] = []
    closest = np.full(n, -np.inf)
    free = np.ones(n, bool)
    for _ in range(k):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        value = (1 - diversity) * relevance - diversity * penalty
        value[~free] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        free[best] = False
        closest = np.maximum(closest, similarity[best])
    return picked


def reasons(
    items: np.ndarray,
    history: np.ndarray,
    history_ids: Sequence[str],
    history_types: Sequence[str],
) -> list[tuple[str, str | None]]:
    """(reason, history item) per row of ``items``: the closest history item by cosine, or
    ``popular`` without a history (or when no history item points the same way)."""
    if len(history) == 0 or len(items) == 0:
        return [(POPULAR, None)] * len(items)
    cosine = _unit(items) @ _unit(history).T
    best = cosine.argmax(axis=1)
    out = []
    for j, value in zip(best.tolist(), cosine[np.arange(len(best)), best].tolist()):
        if value <= 0:
            out.append((POPULAR, None))
        else:
            verb = _VERBS.get(history_types[j], "viewed")
            out.append((f"because you {verb} {history_ids[j]}", history_ids[j]))
    return out
