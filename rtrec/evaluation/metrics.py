"""Top-K ranking metrics over whole test sets, vectorised with numpy.

Written by hand because the metric libraries we could use either need TensorFlow (TFMA, TFRS)
or score one user at a time (scikit-learn's ``ndcg_score`` wants dense relevance over the full
catalog, 10k users x 50k items). Everything here works on a boolean *hit matrix*: row u, column
r says whether the item a model ranked r-th for user u is one of u's targets. Per-user
functions return one value per user, so callers can average, slice or bootstrap them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def hit_matrix(ranked: np.ndarray, targets: Sequence[np.ndarray]) -> np.ndarray:
    """Mark which ranked items are targets: bool [n_users, K] from item indices [n_users, K]."""
    ranked = np.asarray(ranked, dtype=np.int64)
    if ranked.ndim != 2 or len(ranked) != len(targets):
        raise ValueError(
            f"ranked must be [n_users, K] with one row per target set; got shape {ranked.shape} "
            f"for {len(targets)} target sets"
        )
    if not ranked.size:
        return np.zeros(ranked.shape, dtype=bool)
    lengths = np.fromiter((len(t) for t in targets), dtype=np.int64, count=len(targets))
    flat = np.concatenate([np.asarray(t, dtype=np.int64) for t in targets] + [np.empty(0, int)])
    width = int(max(ranked.max(), flat.max(initial=0))) + 1
    # One integer code per (user, item) pair lets a single isin test every row at once.
    target_codes = np.repeat(np.arange(len(targets)), lengths) * width + flat
    ranked_codes = np.arange(len(ranked))[:, None] * width + ranked
    return np.isin(ranked_codes, target_codes)


def target_counts(targets: Sequence[np.ndarray]) -> np.ndarray:
    """Number of distinct targets per user, the denominator of recall and ideal DCG."""
    return np.fromiter((len(np.unique(t)) for t in targets), dtype=np.int64, count=len(targets))


def hit_rate(hits: np.ndarray, k: int) -> np.ndarray:
    """1.0 where any of the top ``k`` is a target: did the user get anything useful?"""
    return hits[:, :k].any(axis=1).astype(np.float64)


def recall(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """Share of a user's targets found in the top ``k`` (0 for users without targets)."""
    found = hits[:, :k].sum(axis=1)
    return np.divide(found, n_targets, out=np.zeros(len(hits)), where=n_targets > 0)


def precision(hits: np.ndarray, k: int) -> np.ndarray:
    """Share of the ``k`` recommended slots that hold a target."""
    return hits[:, :k].sum(axis=1) / float(k)


def f1(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """Per-user harmonic mean of precision@k and recall@k; 0 where both are 0."""
    p, r = precision(hits, k), recall(hits, n_targets, k)
    total = p + r
    return np.divide(2.0 * p * r, total, out=np.zeros(len(hits)), where=total > 0)


def ndcg(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """Binary-relevance NDCG@k: rewards hits near the top; ideal DCG uses min(|targets|, k)."""
    top = hits[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = top.astype(np.float64) @ discounts
    ideal_cum = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    ideal = ideal_cum[np.minimum(n_targets, k)]
    return np.divide(dcg, ideal, out=np.zeros(len(hits)), where=ideal > 0)


def reciprocal_rank(hits: np.ndarray, cutoff: int | None = None) -> np.ndarray:
    """1 / rank of the first hit within ``cutoff`` (all columns if None), 0 without a hit."""
    top = hits if cutoff is None else hits[:, :cutoff]
    first = top.argmax(axis=1)
    found = top[np.arange(len(top)), first] if top.shape[1] else np.zeros(len(top), dtype=bool)
    return np.where(found, 1.0 / (first + 1.0), 0.0)


def coverage(ranked: np.ndarray, k: int, n_items: int) -> float:
    """Share of the catalog that appears in anyone's top ``k``: does the model use the catalog?"""
    if not n_items:
        return 0.0
    return len(np.unique(np.asarray(ranked)[:, :k])) / float(n_items)


CURVE_METRICS = ("recall", "precision", "F1", "NDCG")


def metric_sums(
    hits: np.ndarray, n_targets: np.ndarray, ks: Sequence[int]
) -> dict[str, np.ndarray]:
    """Per-user metrics summed over users, at each k of ``ks`` (arrays aligned with ``ks``), and
    the summed reciprocal rank as ``"rr"``: what a streaming evaluator (the TFMA combiner)
    accumulates batch by batch, with the same per-user functions as ``ranking_metrics``."""
    per_k = {
        "recall": lambda k: recall(hits, n_targets, k),
        "precision": lambda k: precision(hits, k),
        "F1": lambda k: f1(hits, n_targets, k),
        "NDCG": lambda k: ndcg(hits, n_targets, k),
    }
    sums = {name: np.array([fn(k).sum() for k in ks]) for name, fn in per_k.items()}
    sums["rr"] = np.array([reciprocal_rank(hits).sum()])
    return sums


def ranking_metrics(
    ranked: np.ndarray, targets: Sequence[np.ndarray], ks: Sequence[int], n_items: int
) -> dict[str, float]:
    """Mean metrics for a set of users, named ``HR@k``, ``recall@k``, ..., ``MRR``, ``users``.

    ``MRR`` looks for the first hit within the whole ranked list (``max(ks)`` items in the
    runner). An empty set of users gives only ``users = 0``: a mean over nobody is not a number
    anyone should compare.
    """
    metrics: dict[str, float] = {"users": len(targets)}
    if not len(targets):
        return metrics
    hits = hit_matrix(ranked, targets)
    n_targets = target_counts(targets)
    for k in ks:
        metrics[f"HR@{k}"] = float(hit_rate(hits, k).mean())
        metrics[f"recall@{k}"] = float(recall(hits, n_targets, k).mean())
        metrics[f"precision@{k}"] = float(precision(hits, k).mean())
        metrics[f"F1@{k}"] = float(f1(hits, n_targets, k).mean())
        metrics[f"NDCG@{k}"] = float(ndcg(hits, n_targets, k).mean())
        metrics[f"coverage@{k}"] = coverage(ranked, k, n_items)
    metrics["MRR"] = float(reciprocal_rank(hits).mean())
    return metrics
