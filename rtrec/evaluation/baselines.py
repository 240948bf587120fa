"""Collaborative-filtering baselines and the ``Recommender`` protocol every compared model meets.

The baselines are the yardsticks a new model has to beat: Popularity (no personalisation),
ItemKNN (neighbourhood CF) and EASE (a strong linear autoencoder, Steck 2019). They are a few
lines of numpy/scipy each; the libraries that ship them (implicit, RecBole, Cornac) would pull
in their own data formats and, for RecBole, torch, for less than this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from rtrec.evaluation.protocols import EvalCase, TrainData


@runtime_checkable
class Recommender(Protocol):
    """What the runner needs from a model: fit on a split's training data, score test users.

    ``score`` returns a float array [len(cases), n_items], higher meaning "recommend first".
    The runner masks each user's history itself, so models need not (but may) do it.
    """

    name: str

    def fit(self, train: TrainData) -> None:
        """Learn from ``train`` only; called once per protocol, so it must reset earlier state."""
        ...

    def score(self, cases: Sequence[EvalCase]) -> np.ndarray:
        """Score the whole catalog for each case, given only the case's history."""
        ...


def history_matrix(
    cases: Sequence[EvalCase], n_items: int, decay: float = 1.0, last: int | None = None
) -> sp.csr_matrix:
    """Weight each history item by ``decay ** (steps back from the latest event)``.

    Row i is case i's history as a sparse [n_items] vector. An item seen several times gets the
    weight of its latest occurrence, so ``decay=1`` gives the plain binary history that item-item
    models expect, and ``decay < 1`` makes recent items count more. ``last`` keeps only the
    ``last`` most recently seen distinct items (a sequential heuristic: the next item follows
    the latest ones).
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"recency decay must be in (0, 1], got {decay}")
    rows, cols, vals = [], [], []
    for row, case in enumerate(cases):
        latest_first = case.history[::-1]
        items, steps_back = np.unique(latest_first, return_index=True)
        if last is not None and len(items) > last:
            recent = np.argsort(steps_back, kind="stable")[:last]
            items, steps_back = items[recent], steps_back[recent]
        rows.append(np.full(len(items), row))
        cols.append(items)
        vals.append(np.power(decay, steps_back, dtype=np.float64))
    if not rows:
        return sp.csr_matrix((0, n_items), dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(cases), n_items),
    )


class Popularity:
    """Rank items by how many training users interacted with them; the same list for everyone."""

    def __init__(self, name: str = "popularity") -> None:
        self.name = name
        self.counts = np.zeros(0, dtype=np.float32)

    def fit(self, train: TrainData) -> None:
        """Count distinct users per item."""
        matrix = train.interaction_matrix()
        self.counts = np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()

    def score(self, cases: Sequence[EvalCase]) -> np.ndarray:
        """Every user gets the popularity vector."""
        return np.tile(self.counts, (len(cases), 1))


class ItemKNN:
    """Item-item cosine neighbourhood CF: score = sum of similarities to the history items.

    Each item keeps its ``neighbours`` most similar items (None keeps all), as in Deshpande &
    Karypis (2004); pruning keeps the similarity matrix sparse for large catalogs. The matrix is
    built ``block_size`` items at a time so memory stays at a dense [block_size, n_items] block.
    ``last_items`` scores from the user's most recent distinct items only: with 5, a strong
    sequential heuristic that a next-item model must beat to claim it learned the sequence.
    """

    def __init__(
        self,
        neighbours: int | None = 100,
        recency_decay: float = 1.0,
        block_size: int = 1024,
        last_items: int | None = None,
        name: str = "itemknn",
    ) -> None:
        if last_items is not None and last_items < 1:
            raise ValueError(f"last_items must be at least 1 (or None for all), got {last_items}")
        self.name = name
        self.neighbours = neighbours
        self.last_items = last_items
        self.recency_decay = recency_decay
        self.block_size = block_size
        self.similarity = sp.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, train: TrainData) -> None:
        """Build the pruned cosine similarity matrix of item columns of the user-item matrix."""
        matrix = train.interaction_matrix().tocsc()
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        unit = (matrix @ sp.diags(inverse.astype(np.float32))).tocsc()
        unit_t = unit.T.tocsr()
        n_items = train.n_items
        keep = n_items if self.neighbours is None else min(self.neighbours, n_items)
        pieces = []
        for start in range(0, n_items, self.block_size):
            stop = min(start + self.block_size, n_items)
            block = (unit_t[start:stop] @ unit).toarray()
            block[np.arange(stop - start), np.arange(start, stop)] = 0.0  # no self-similarity
            pieces.append(_top_per_row(block, keep, row_offset=start))
        rows, cols, vals = (np.concatenate(part) for part in zip(*pieces))
        self.similarity = sp.csr_matrix((vals, (rows, cols)), shape=(n_items, n_items))

    def score(self, cases: Sequence[EvalCase]) -> np.ndarray:
        """Sum (recency-weighted) similarities from each history item to every catalog item."""
        history = history_matrix(
            cases, self.similarity.shape[0], self.recency_decay, self.last_items
        )
        return (history @ self.similarity).toarray()


class EASE:
    """EASE (Steck 2019): a closed-form item-item linear model with a zero diagonal.

    It needs the dense inverse of an n_items x n_items Gram matrix, so it refuses catalogs
    larger than ``max_items`` instead of running out of memory after minutes of work.
    """

    def __init__(self, l2: float = 500.0, max_items: int = 25_000, name: str = "ease") -> None:
        self.name = name
        self.l2 = l2
        self.max_items = max_items
        self.weights = np.zeros((0, 0), dtype=np.float32)

    def check_catalog(self, n_items: int) -> None:
        """Raise before any work if the catalog is too large for a dense inverse."""
        if n_items > self.max_items:
            gigabytes = n_items * n_items * 4 / 1e9
            raise ValueError(
                f"EASE refuses a catalog of {n_items} items: it inverts a dense {n_items}x"
                f"{n_items} matrix ({gigabytes:.1f} GB per float32 copy, two at peak). The "
                f"limit is {self.max_items} items; leave 'ease' out of the compared models or "
                f"evaluate on a smaller catalog."
            )

    def fit(self, train: TrainData) -> None:
        """Solve B = I - P diagMat(1 / diag(P)) with P = (X'X + l2 I)^-1, diagonal set to 0.

        P comes from a float32 Cholesky factorisation (the Gram matrix is symmetric positive
        definite): about 7x faster than a float64 LU inverse, with weights within 1e-6 of it.
        """
        self.check_catalog(train.n_items)
        matrix = train.interaction_matrix()
        gram = (matrix.T @ matrix).toarray().astype(np.float32, copy=False)
        gram[np.diag_indices_from(gram)] += self.l2
        # gram is symmetric, so its transpose is the same matrix in the Fortran order LAPACK
        # wants, and the factorisation can overwrite it instead of copying 4 n^2 bytes.
        factor, info = lapack.spotrf(gram.T, lower=False, clean=True, overwrite_a=True)
        if info == 0:
            inverse, info = lapack.spotri(factor, lower=False, overwrite_c=True)
        if info != 0:
            raise np.linalg.LinAlgError(
                f"EASE: Cholesky inverse of the Gram matrix failed (LAPACK info={info}); "
                f"raise l2 (now {self.l2}) to make it better conditioned"
            )
        _mirror_upper(inverse)
        inverse /= -np.diag(inverse)[None, :]
        inverse[np.diag_indices_from(inverse)] = 0.0
        self.weights = np.ascontiguousarray(inverse)  # row-major for fast sparse @ dense

    def score(self, cases: Sequence[EvalCase]) -> np.ndarray:
        """Reconstruct each binary history through the learned item-item weights."""
        history = history_matrix(cases, self.weights.shape[0])
        return np.asarray(history @ self.weights)


def _top_per_row(
    block: np.ndarray, keep: int, row_offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO triplets of the ``keep`` largest positive entries in each row of a dense block."""
    if keep < block.shape[1]:
        cols = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
    else:
        cols = np.broadcast_to(np.arange(block.shape[1]), block.shape)
    vals = np.take_along_axis(block, cols, axis=1)
    rows = np.broadcast_to(np.arange(block.shape[0])[:, None], cols.shape) + row_offset
    positive = vals > 0
    return rows[positive], cols[positive], vals[positive].astype(np.float32)


def _mirror_upper(matrix: np.ndarray, block: int = 2048) -> None:
    """Copy the upper triangle onto the lower one in place, a block of rows at a time.

    LAPACK's ``potri`` fills only one triangle; ``np.triu(a) + np.triu(a, 1).T`` would need two
    extra n x n copies, which is what limits EASE's catalog size.
    """
    for start in range(0, len(matrix), block):
        stop = min(start + block, len(matrix))
        matrix[start:stop, :start] = matrix[:start, start:stop].T
        diagonal = matrix[start:stop, start:stop]
        diagonal[:] = np.triu(diagonal) + np.triu(diagonal, 1).T
