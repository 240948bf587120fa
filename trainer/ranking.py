"""Top-K with exclusions (items already in the history, items the caller excludes), in TF.

Shared by the in-training evaluation, the quality benchmark's rtrec adapter and the serving
signatures, so offline numbers and served results come from the same code.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rtrec import features as fk
from rtrec.evaluation.metrics import ranking_metrics


def exclude_and_top_k(
    candidate_ids: tf.Tensor, candidate_scores: tf.Tensor, exclude_ids: tf.Tensor, k
) -> tuple[tf.Tensor, tf.Tensor]:
    """Drop candidates whose id is in ``exclude_ids`` (per row), then keep the best ``k``.

    ``candidate_*`` are [batch, L] from an index asked for ``k + exclude width`` results, so at
    least ``k`` survive; padding ids ('') in ``exclude_ids`` exclude nothing.
    """
    excluded = tf.reduce_any(
        tf.logical_and(
            tf.equal(candidate_ids[:, :, None], exclude_ids[:, None, :]),
            tf.not_equal(exclude_ids[:, None, :], fk.PAD_ITEM),
        ),
        axis=2,
    )
    scores = tf.where(excluded, tf.fill(tf.shape(candidate_scores), -np.inf), candidate_scores)
    best, order = tf.math.top_k(scores, k=tf.minimum(k, tf.shape(scores)[1]))
    return tf.gather(candidate_ids, order, batch_dims=1), best


def rank_catalog(model, features: dict, k: int, batch_size: int = 512) -> np.ndarray:
    """Catalog rows of the top ``k`` items per example, history excluded, full catalog scored."""
    catalog = model.catalog_vectors()
    ids = model.catalog_ids
    n = len(next(iter(features.values())))
    width = k + features[fk.HISTORY_ITEM_IDS].shape[1]
    out = []
    for start in range(0, n, batch_size):
        batch = {key: tf.constant(v[start : start + batch_size]) for key, v in features.items()}
        users = model.user_vectors(batch)
        scores = tf.matmul(users, catalog, transpose_b=True)
        top_scores, top_rows = tf.math.top_k(scores, k=min(width, int(catalog.shape[0])))
        top_ids = tf.gather(ids, top_rows)
        ranked_ids, _ = exclude_and_top_k(top_ids, top_scores, batch[fk.HISTORY_ITEM_IDS], k)
        out.append(model.catalog_rows.lookup(ranked_ids).numpy())
    return np.concatenate(out)


def evaluate_examples(model, arrays: dict, ks: tuple[int, ...]) -> dict[str, dict[str, float]]:
    """Next-item metrics per slice ('all', 'cold_items' = target unseen in training)."""
    ranked = rank_catalog(model, arrays, max(ks))
    targets_rows = model.catalog_rows.lookup(tf.constant(arrays[fk.TARGET_ITEM_ID])).numpy()
    targets = [np.array([t], np.int64) for t in targets_rows]
    n_items = model.catalog.size
    results = {"all": ranking_metrics(ranked, targets, ks, n_items)}
    cold = np.flatnonzero(arrays[fk.TARGET_UNSEEN_IN_TRAIN] > 0)
    if len(cold):
        results["cold_items"] = ranking_metrics(
            ranked[cold], [targets[i] for i in cold], ks, n_items
        )
    return results
