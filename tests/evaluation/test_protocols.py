"""Tests for the leave-last-out and temporal split protocols on hand-made logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtrec.evaluation.interactions import InteractionLog, build_interactions
from rtrec.evaluation.protocols import leave_last_out, make_split, temporal

ITEM_IDS = ["i1", "i2", "i3", "i4", "i5", "i6"]


def _log(rows: list[tuple[str, str, float]]) -> InteractionLog:
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    events["timestamp"] = events["timestamp"].astype(str)
    events["event_type"] = "view"
    items = pd.DataFrame({"item_id": ITEM_IDS, "title": ITEM_IDS})
    return build_interactions(events, items)


def _ids(log: InteractionLog, indices: np.ndarray) -> list[str]:
    return [str(log.item_ids[i]) for i in indices]


def _user(log: InteractionLog, index: int) -> str:
    return str(log.user_ids[index])


LOO_ROWS = [
    ("u1", "i2", 2),
    ("u1", "i1", 1),
    ("u1", "i3", 3),
    ("u2", "i1", 1),
    ("u2", "i2", 5),
    ("u2", "i4", 5),  # ties with i2; later in the input, so it is u2's last event
    ("u3", "i1", 2),  # two events: never tested, always trained on
    ("u3", "i3", 3),
    ("u4", "i5", 1),
    ("u4", "i1", 2),
    ("u4", "i5", 4),  # repeats history: u4 is not tested
]


def test_leave_last_out_holds_out_each_last_event() -> None:
    log = _log(LOO_ROWS)
    split = leave_last_out(log)
    cases = {_user(log, case.user): case for case in split.cases}
    assert sorted(cases) == ["u1", "u2"]
    assert _ids(log, cases["u1"].history) == ["i1", "i2"]
    assert _ids(log, cases["u1"].targets) == ["i3"]
    assert cases["u1"].history_timestamps.tolist() == [1.0, 2.0]
    assert cases["u1"].history_event_types.tolist() == ["view", "view"]
    assert cases["u1"].request_time is None  # the target's time stays hidden
    assert _ids(log, cases["u2"].history) == ["i1", "i2"]
    assert _ids(log, cases["u2"].targets) == ["i4"]
    assert split.stats["repeat_target_users"] == 1
    assert split.stats["eligible_users"] == 3
    # Train: everything except the last event of u1, u2 and u4, in input order.
    assert split.train.events["order"].tolist() == [0, 1, 3, 4, 6, 7, 8, 9]


def test_leave_last_out_cold_slice_is_targets_absent_from_train() -> None:
    log = _log(LOO_ROWS)
    split = leave_last_out(log)
    positions, targets = split.slice("cold_items")
    assert [_user(log, split.cases[p].user) for p in positions] == ["u2"]
    assert [_ids(log, t) for t in targets] == [["i4"]]


def test_short_history_slice_uses_the_configured_length() -> None:
    rows = LOO_ROWS + [("u5", "i1", 1), ("u5", "i2", 2), ("u5", "i3", 3), ("u5", "i6", 4)]
    log = _log(rows)
    split = leave_last_out(log, short_history_max=2)
    positions, _ = split.slice("short_history")
    assert sorted(_user(log, split.cases[p].user) for p in positions) == ["u1", "u2"]
    assert len(leave_last_out(log).slice("short_history")[0]) == 3


TEMPORAL_ROWS = [
    ("u1", "i1", 1),
    ("u1", "i2", 2),
    ("u1", "i3", 8),
    ("u1", "i1", 9),  # already in u1's history: not a target
    ("u1", "i6", 10),
    ("u2", "i2", 3),
    ("u2", "i4", 9),
    ("u3", "i1", 7),  # nothing before the cut: not tested
    ("u4", "i5", 2),
    ("u4", "i5", 8),  # only repeats after the cut
    ("u5", "i3", 4),  # nothing after the cut: not tested, but trained on
]


def test_temporal_splits_at_the_quantile_with_several_targets() -> None:
    log = _log(TEMPORAL_ROWS)
    split = temporal(log, quantile=0.5)
    assert split.stats["cut_timestamp"] == 7.0
    assert split.stats["no_new_target_users"] == 1
    assert (split.train.events["timestamp"] < 7.0).all()
    assert len(split.train.events) == 5
    cases = {_user(log, case.user): case for case in split.cases}
    assert sorted(cases) == ["u1", "u2"]
    assert _ids(log, cases["u1"].history) == ["i1", "i2"]
    assert _ids(log, cases["u1"].targets) == ["i3", "i6"]
    assert _ids(log, cases["u2"].targets) == ["i4"]
    # Served after the cut: "now" is the cut for every case, not the user's last event.
    assert {case.request_time for case in split.cases} == {7.0}


def test_temporal_cold_slice_restricts_targets_to_unseen_items() -> None:
    log = _log(TEMPORAL_ROWS)
    split = temporal(log, quantile=0.5)
    positions, targets = split.slice("cold_items")
    users = [_user(log, split.cases[p].user) for p in positions]
    assert dict(zip(users, [_ids(log, t) for t in targets])) == {"u1": ["i6"], "u2": ["i4"]}
    _, all_targets = split.slice("all")
    assert sorted(len(t) for t in all_targets) == [1, 2]


def test_bad_protocol_arguments_are_refused() -> None:
    log = _log(TEMPORAL_ROWS)
    with pytest.raises(ValueError, match="quantile"):
        temporal(log, quantile=1.0)
    with pytest.raises(ValueError, match="unknown protocol"):
        make_split(log, "random")
    with pytest.raises(ValueError, match="unknown slice"):
        temporal(log).slice("warm")


def test_interaction_matrix_is_binary() -> None:
    log = _log([("u1", "i1", 1), ("u1", "i1", 2), ("u1", "i2", 3), ("u1", "i3", 4)])
    matrix = leave_last_out(log).train.interaction_matrix().toarray()
    assert matrix.tolist()[0] == [1, 1, 0, 0, 0, 0]
