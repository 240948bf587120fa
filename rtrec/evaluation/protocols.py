"""Evaluation protocols: one train/test split per protocol, shared by every compared model.

Two protocols answer two questions. ``leave_last_out`` asks "what does this user do next?" and
uses every user with enough history; ``temporal`` asks "how would the model do if trained up to
a date and served after it?", the question production faces, with several targets per user.
Both only keep targets the user has not interacted with before, because the runner removes
history items from every ranking (re-recommending what a user already has is not the task).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from rtrec.evaluation.interactions import EVENT_TYPE, ITEM, ORDER, TIMESTAMP, USER, InteractionLog

SLICES: tuple[str, ...] = ("all", "cold_items", "short_history")
DEFAULT_SHORT_HISTORY = 5


@dataclass(frozen=True)
class TrainData:
    """The events models may learn from, with the catalog and raw ids they can map to."""

    events: pd.DataFrame
    log: InteractionLog

    @property
    def n_users(self) -> int:
        """Size of the user index (test users included: their history is in ``events``)."""
        return self.log.n_users

    @property
    def n_items(self) -> int:
        """Catalog size; every score matrix has this many columns."""
        return self.log.n_items

    @property
    def catalog(self) -> pd.DataFrame:
        """Catalog rows in item-index order (all contract item columns, as strings)."""
        return self.log.items

    def interaction_matrix(self) -> sp.csr_matrix:
        """Binary user x item matrix of training interactions (float32), the usual CF input."""
        matrix = sp.csr_matrix(
            (
                np.ones(len(self.events), dtype=np.float32),
                (self.events[USER].to_numpy(), self.events[ITEM].to_numpy()),
            ),
            shape=(self.n_users, self.n_items),
        )
        matrix.data[:] = 1.0  # repeated (user, item) pairs were summed; keep them binary
        return matrix

    def seen_items(self) -> np.ndarray:
        """Boolean mask over the catalog: items with at least one training event."""
        return np.bincount(self.events[ITEM].to_numpy(), minlength=self.n_items) > 0


@dataclass(frozen=True)
class EvalCase:
    """One test user: their time-ordered history and the items they went on to interact with."""

    user: int
    history: np.ndarray
    history_event_types: np.ndarray
    history_timestamps: np.ndarray
    targets: np.ndarray
    cold_targets: np.ndarray
    request_time: float | None = None
    """When the recommendation is asked for, if the protocol knows: the cut for ``temporal`` (a
    model trained up to the cut serves after it, as a live server's clock would tell it). None
    for ``leave_last_out``, which hides the target's time; time-aware models then take the
    last history event as "now"."""


@dataclass(frozen=True)
class Split:
    """A protocol's training data and test cases; ``stats`` counts what was kept and dropped."""

    protocol: str
    train: TrainData
    cases: list[EvalCase]
    short_history_max: int = DEFAULT_SHORT_HISTORY
    stats: dict[str, float] = field(default_factory=dict)

    def slice(self, name: str) -> tuple[np.ndarray, list[np.ndarray]]:
        """Case positions in a slice and the targets each is judged on there.

        ``cold_items`` judges only targets never seen in training (users without one are left
        out); ``short_history`` keeps users with at most ``short_history_max`` history events.
        """
        if name == "all":
            return np.arange(len(self.cases)), [case.targets for case in self.cases]
        if name == "cold_items":
            chosen = [i for i, case in enumerate(self.cases) if len(case.cold_targets)]
            return np.asarray(chosen, dtype=np.int64), [self.cases[i].cold_targets for i in chosen]
        if name == "short_history":
            limit = self.short_history_max
            chosen = [i for i, case in enumerate(self.cases) if len(case.history) <= limit]
            return np.asarray(chosen, dtype=np.int64), [self.cases[i].targets for i in chosen]
        raise ValueError(f"unknown slice {name!r}; use one of {', '.join(SLICES)}")


def leave_last_out(
    log: InteractionLog, min_events: int = 3, short_history_max: int = DEFAULT_SHORT_HISTORY
) -> Split:
    """Hold out each user's last event (timestamp ties broken by input order) as the target.

    Users with fewer than ``min_events`` events are not tested and keep all their events in
    training. A user whose last item already appears in their history is not tested either
    (counted in ``stats['repeat_target_users']``), but their last event stays held out.
    """
    ordered = _time_ordered(log.events)
    held_out = np.zeros(len(ordered), dtype=bool)
    cases: list[EvalCase] = []
    eligible = repeats = 0
    for start, end in _user_ranges(ordered):
        if end - start < min_events:
            continue
        eligible += 1
        held_out[end - 1] = True
        history = ordered.iloc[start : end - 1]
        target = ordered[ITEM].iat[end - 1]
        if np.isin(target, history[ITEM].to_numpy()):
            repeats += 1
            continue
        cases.append(_case(history, np.asarray([target], dtype=np.int64)))
    train = _train(ordered[~held_out], log)
    cases = _with_cold_targets(cases, train)
    stats = {"eligible_users": eligible, "repeat_target_users": repeats}
    return _split("leave_last_out", train, cases, short_history_max, stats)


def temporal(
    log: InteractionLog, quantile: float = 0.9, short_history_max: int = DEFAULT_SHORT_HISTORY
) -> Split:
    """Train on events before a time cut; test users active on both sides of it.

    The cut is the ``quantile`` of all event timestamps; events at or after it are the future.
    Targets are the distinct items a test user interacts with after the cut and not before;
    users whose future holds only items from their past are counted in
    ``stats['no_new_target_users']`` and not tested.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"temporal quantile must be strictly between 0 and 1, got {quantile}")
    ordered = _time_ordered(log.events)
    cut = float(np.quantile(ordered[TIMESTAMP].to_numpy(), quantile)) if len(ordered) else 0.0
    before = (ordered[TIMESTAMP] < cut).to_numpy()
    cases: list[EvalCase] = []
    no_new = 0
    for start, end in _user_ranges(ordered):
        split_at = start + int(before[start:end].sum())  # rows are time ordered per user
        if split_at == start or split_at == end:
            continue
        history = ordered.iloc[start:split_at]
        future = ordered[ITEM].to_numpy()[split_at:end]
        targets = np.setdiff1d(future, history[ITEM].to_numpy())
        if not len(targets):
            no_new += 1
            continue
        cases.append(replace(_case(history, targets.astype(np.int64)), request_time=cut))
    train = _train(ordered[before], log)
    cases = _with_cold_targets(cases, train)
    stats = {"cut_timestamp": cut, "quantile": quantile, "no_new_target_users": no_new}
    return _split("temporal", train, cases, short_history_max, stats)


PROTOCOLS = {"leave_last_out": leave_last_out, "temporal": temporal}


def make_split(log: InteractionLog, protocol: str, **options: float) -> Split:
    """Build the split for a protocol named on the command line."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[protocol](log, **options)


def _time_ordered(events: pd.DataFrame) -> pd.DataFrame:
    """Events grouped by user, each user's events by timestamp then input order."""
    keys = (events[ORDER].to_numpy(), events[TIMESTAMP].to_numpy(), events[USER].to_numpy())
    return events.iloc[np.lexsort(keys)].reset_index(drop=True)


def _user_ranges(ordered: pd.DataFrame) -> Iterator[tuple[int, int]]:
    """Yield each user's [start, end) row range in a user-grouped frame."""
    users = ordered[USER].to_numpy()
    if not len(users):
        return
    bounds = np.flatnonzero(users[1:] != users[:-1]) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(users)]])
    yield from zip(starts.tolist(), ends.tolist())


def _case(history: pd.DataFrame, targets: np.ndarray) -> EvalCase:
    return EvalCase(
        user=int(history[USER].iat[0]),
        history=history[ITEM].to_numpy(dtype=np.int64),
        history_event_types=history[EVENT_TYPE].to_numpy(dtype=object),
        history_timestamps=history[TIMESTAMP].to_numpy(dtype=np.float64),
        targets=targets,
        cold_targets=targets,
    )


def _train(events: pd.DataFrame, log: InteractionLog) -> TrainData:
    """Training events back in input order, so models see the log as it was written."""
    return TrainData(events=events.sort_values(ORDER).reset_index(drop=True), log=log)


def _with_cold_targets(cases: list[EvalCase], train: TrainData) -> list[EvalCase]:
    seen = train.seen_items()
    return [replace(case, cold_targets=case.targets[~seen[case.targets]]) for case in cases]


def _split(
    protocol: str,
    train: TrainData,
    cases: list[EvalCase],
    short_history_max: int,
    stats: dict[str, float],
) -> Split:
    stats = {"train_events": len(train.events), "test_users": len(cases), **stats}
    return Split(protocol, train, cases, short_history_max, stats)
