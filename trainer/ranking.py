"""Offline ranking of the catalog with the serving index, and next-item metrics over it.

The in-training evaluation ranks with the index the serving signatures use
(``trainer.index.CatalogIndex``: history excluded before the top-k), so the per-epoch numbers
and the served lists come from the same code (tests compare the two).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rtrec import features as fk
from rtrec.evaluation.metrics import ranking_metrics
from trainer.index import CatalogIndex


def rank_catalog(model, features: dict, k: int, batch_size: int = 512) -> np.ndarray:
    """Catalog rows of the top ``k`` items per example, history excluded, full catalog scored
    by the serving index itself (``trainer.index.CatalogIndex``)."""
    index = CatalogIndex(
        model.catalog_vectors().numpy(), np.array(model.catalog.ids), model.hp.embedding_dim
    )
    n = len(next(iter(features.values())))
    out = []
    for start in range(0, n, batch_size):
        batch = {key: tf.constant(v[start : start + batch_size]) for key, v in features.items()}
        users = model.user_vectors(batch)
        exclude = model.catalog_rows.lookup(batch[fk.HISTORY_ITEM_IDS])
        ranked_ids, _ = index.top_k(users, exclude, tf.constant(k))
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
