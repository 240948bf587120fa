"""Running models through splits: full-catalog top-K ranking, metrics per slice, a result table.

Every model ranks the whole catalog for every test user (no sampled negatives, which inflate
and reorder results; Krichene & Rendle 2020), with the user's history masked out. Users are
scored in batches so 10k users x 50k items never needs more than one [batch, n_items] block.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

from rtrec.evaluation.baselines import Recommender
from rtrec.evaluation.metrics import ranking_metrics
from rtrec.evaluation.protocols import SLICES, EvalCase, Split

#: protocol -> model name -> slice -> metric name -> value.
Results = dict[str, dict[str, dict[str, dict[str, float]]]]

DEFAULT_KS: tuple[int, ...] = (10, 20, 50)
DEFAULT_BATCH = 512


def evaluate(
    models: Sequence[Recommender],
    splits: Split | Sequence[Split],
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = DEFAULT_BATCH,
    on_progress: Callable[[str], None] | None = None,
) -> Results:
    """Fit each model on each split's training data and measure it on that split's test users.

    Besides the metrics of ``ranking_metrics`` (and ``users``, the slice size), the ``all``
    slice records ``fit_seconds`` and ``score_seconds`` (scoring and ranking every test user).
    """
    names = [model.name for model in models]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be unique to key the results; got {names}")
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive cut-offs, got {tuple(ks)}")
    split_list = [splits] if isinstance(splits, Split) else list(splits)
    results: Results = {}
    for split in split_list:
        n_items = split.train.n_items
        per_model = results.setdefault(split.protocol, {})
        for model in models:
            started = time.perf_counter()
            model.fit(split.train)
            fitted = time.perf_counter()
            ranked = rank_top_k(model, split.cases, n_items, max(ks), batch_size)
            scored = time.perf_counter()
            per_slice = {}
            for name in SLICES:
                positions, targets = split.slice(name)
                per_slice[name] = ranking_metrics(ranked[positions], targets, ks, n_items)
            per_slice["all"]["fit_seconds"] = fitted - started
            per_slice["all"]["score_seconds"] = scored - fitted
            per_model[model.name] = per_slice
            if on_progress is not None:
                on_progress(
                    f"{split.protocol}: {model.name} fit {fitted - started:.1f}s, scored "
                    f"{len(split.cases)} users in {scored - fitted:.1f}s"
                )
    return results


def rank_top_k(
    model: Recommender,
    cases: Sequence[EvalCase],
    n_items: int,
    k: int,
    batch_size: int = DEFAULT_BATCH,
) -> np.ndarray:
    """Item indices [len(cases), min(k, n_items)], best first, history items excluded."""
    k = min(k, n_items)
    ranked = np.zeros((len(cases), k), dtype=np.int64)
    for start in range(0, len(cases), batch_size):
        batch = cases[start : start + batch_size]
        scores = np.array(model.score(batch), dtype=np.float32)  # a copy we may overwrite
        if scores.shape != (len(batch), n_items):
            raise ValueError(
                f"{model.name}.score returned shape {scores.shape} for {len(batch)} users; "
                f"expected ({len(batch)}, {n_items}), one score per catalog item"
            )
        if np.isnan(scores).any():
            raise ValueError(f"{model.name}.score returned NaN scores; rankings would be arbitrary")
        lengths = [len(case.history) for case in batch]
        rows = np.repeat(np.arange(len(batch)), lengths)
        seen = np.concatenate([np.asarray(case.history, dtype=np.int64) for case in batch])
        scores[rows, seen] = -np.inf
        ranked[start : start + len(batch)] = _top_k(scores, k)
    return ranked


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k highest scores, highest first; ties go to the lower index.

    ``argpartition`` alone picks arbitrary members of a tie at the k-th place, and ties are
    common (every unseen item scores 0 under Popularity), so the k-th value is found first and
    the tied items at that value are taken in index order: the same ranking on every run.
    """
    n_items = scores.shape[1]
    if k < n_items:
        kth = np.partition(scores, n_items - k, axis=1)[:, n_items - k, None]
        above = scores > kth
        tied = scores == kth
        room = k - above.sum(axis=1, keepdims=True)
        chosen = above | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= room))
        candidates = np.nonzero(chosen)[1].reshape(len(scores), k)  # index order per row
    else:
        candidates = np.broadcast_to(np.arange(n_items), scores.shape)
    values = np.take_along_axis(scores, candidates, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1)


_COLUMNS = ("HR", "recall", "precision", "F1", "NDCG", "coverage")


def format_table(results: Results, width: int = 140) -> str:
    """Render one table per protocol and slice: a row per model and cut-off K."""
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    for protocol, per_model in results.items():
        for slice_name in SLICES:
            users = _slice_users(per_model, slice_name)
            title = f"{protocol} / {slice_name}"
            if not users:
                console.print(f"{title}: no test users in this slice\n")
                continue
            timed = slice_name == "all"
            table = Table(title=f"{title} ({users} users)", title_justify="left")
            headers = ["model", "K", *_COLUMNS, "MRR"] + (["fit s", "score s"] if timed else [])
            for header in headers:
                table.add_column(header, justify="left" if header == "model" else "right")
            for model, per_slice in per_model.items():
                metrics = per_slice[slice_name]
                ks = sorted({int(key.split("@")[1]) for key in metrics if key.startswith("HR@")})
                for i, k in enumerate(ks):
                    first = i == 0
                    cells = [f"{metrics[f'{name}@{k}']:.4f}" for name in _COLUMNS]
                    cells.append(f"{metrics['MRR']:.4f}" if first else "")
                    if timed:
                        cells += [_seconds(metrics, "fit_seconds", first)]
                        cells += [_seconds(metrics, "score_seconds", first)]
                    table.add_row(model if first else "", str(k), *cells)
                table.add_section()
            console.print(table)
    return console.file.getvalue()


def _slice_users(per_model: dict[str, dict[str, dict[str, float]]], slice_name: str) -> int:
    for per_slice in per_model.values():
        if slice_name in per_slice:
            return int(per_slice[slice_name].get("users", 0))
    return 0


def _seconds(metrics: dict[str, float], key: str, show: bool) -> str:
    return f"{metrics[key]:.1f}" if show and key in metrics else ""
