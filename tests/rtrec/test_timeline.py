"""Dedupe, bots, sessionization edge cases, interactions and leakage-free examples."""

from __future__ import annotations

from rtrec import features as fk
from rtrec import timeline as history
from rtrec.config import DEFAULT_EVENT_WEIGHTS


def ev(item, ts, etype="view", order=0, session="", query="", value=None):
    return history.Event("u", item, etype, float(ts), value, query, session, (0, order))


def _sorted(events):
    return sorted(events, key=lambda e: e.sort_key())


def test_dedupe_keeps_first_by_input_order_and_counts():
    a, b = ev("a", 1, order=5), ev("a", 1, order=2)
    kept, dupes = history.dedupe([a, b, ev("b", 2, order=9)])
    assert dupes == 1 and kept[0].order == (0, 2) and len(kept) == 2


def test_dedupe_keeps_same_item_at_different_times():
    kept, dupes = history.dedupe([ev("a", 1), ev("a", 2, order=1)])
    assert dupes == 0 and len(kept) == 2


def test_bot_rule_is_a_sliding_60s_window():
    calm = [ev("a", i * 1.0, order=i) for i in range(10)]
    assert not history.is_bot(calm, 10)
    assert history.is_bot(calm + [ev("a", 9.5, order=11)], 10)
    spread = [ev("a", i * 7.0, order=i) for i in range(40)]  # ~8.6 per minute
    assert not history.is_bot(spread, 9) and history.is_bot(spread, 8)


def test_sessionize_gaps_equal_timestamps_and_session_ids():
    events = _sorted([ev("a", 0), ev("b", 0, order=1), ev("c", 100), ev("d", 2000), ev("e", 2001)])
    assert history.sessionize(events, 1800) == [0, 0, 0, 1, 1]
    with_ids = [ev("a", 0, session="s1"), ev("b", 5, session="s2", order=1)]
    assert history.sessionize(with_ids, 1800) == [0, 1]
    assert history.sessionize([ev("a", 0)], 1800) == [0]
    assert history.sessionize([], 1800) == []


def test_equal_timestamps_sort_by_funnel_then_input_order():
    events = _sorted([ev("a", 5, "purchase", order=0), ev("a", 5, "view", order=1)])
    assert [e.event_type for e in events] == ["view", "purchase"]


def test_interactions_collapse_funnels_and_attach_queries():
    events = _sorted(
        [
            ev("", 0, "search", query="blue case", order=0),
            ev("a", 1, "view", order=1),
            ev("a", 2, "click", order=2),
            ev("a", 3, "purchase", order=3),
            ev("b", 4, "view", order=4),
            ev("a", 5000, "view", order=5),
        ]
    )
    sessions = history.sessionize(events, 1800)
    steps = history.interactions(events, sessions, DEFAULT_EVENT_WEIGHTS)
    assert [(s.item, s.event_type, s.start, s.end) for s in steps] == [
        ("a", "purchase", 1.0, 3.0),
        ("b", "view", 4.0, 4.0),
        ("a", "view", 5000.0, 5000.0),
    ]
    assert steps[0].query == "blue case" and steps[1].query == ""
    assert steps[0].weight == DEFAULT_EVENT_WEIGHTS["purchase"]


def _examples(steps, cutoff=1e12, length=3, seen=frozenset()):
    return list(history.build_examples("u", steps, length, cutoff, seen))


def _steps(*spec):
    return [
        history.Interaction(item, "view", 0.25, start, end, 0, None, "")
        for item, start, end in spec
    ]


def test_history_holds_nothing_at_or_after_the_target():
    steps = _steps(("a", 1, 1), ("b", 2, 5), ("c", 5, 5), ("d", 9, 9))
    examples = _examples(steps)
    by_target = {f[fk.TARGET_ITEM_ID]: f for _, f in examples}
    # b ended at 5, the moment c started: it must not be in c's history.
    assert by_target["c"][fk.HISTORY_ITEM_IDS] == ["", "", "a"]
    for _, f in examples:
        ts = [t for t in f[fk.HISTORY_TIMESTAMPS] if t] if f[fk.HISTORY_LENGTH] else []
        assert all(t < f[fk.TIMESTAMP] for t in ts)


def test_history_is_truncated_to_most_recent_and_left_padded():
    steps = _steps(*[(str(i), i, i) for i in range(6)])
    last = _examples(steps)[-1][1]
    assert last[fk.HISTORY_ITEM_IDS] == ["2", "3", "4"] and last[fk.HISTORY_LENGTH] == 3
    assert last[fk.HISTORY_AGES_S] == [3.0, 2.0, 1.0]
    first = _examples(steps)[0][1]
    assert first[fk.HISTORY_ITEM_IDS] == ["", "", ""] and first[fk.HISTORY_AGES_S] == [-1.0] * 3


def test_split_by_cutoff_and_unseen_flag():
    steps = _steps(("a", 1, 1), ("b", 10, 10), ("c", 20, 20))
    splits = _examples(steps, cutoff=10, seen=frozenset({"a"}))
    assert [s for s, _ in splits] == ["train", "eval", "eval"]
    assert [f[fk.TARGET_UNSEEN_IN_TRAIN] for _, f in splits] == [0, 1, 1]
    assert all(f[fk.TIMESTAMP] < 10 for s, f in splits if s == "train")


def test_one_event_user_gives_one_example_with_empty_history():
    (only,) = _examples(_steps(("a", 1, 1)))
    assert only[1][fk.HISTORY_LENGTH] == 0


def test_steps_of_sorts_sessionizes_and_collapses_like_ingestion():
    shuffled = [ev("b", 100, "click", order=3), ev("b", 100, "view", order=4), ev("a", 0, order=1),
                ev("c", 5000, order=2)]  # fmt: skip
    steps = history.steps_of(shuffled, 1800, DEFAULT_EVENT_WEIGHTS)
    # The view precedes its click at equal time (funnel rank) and both collapse into one click.
    assert [(s.item, s.event_type, s.session) for s in steps] == [
        ("a", "view", 0), ("b", "click", 0), ("c", "view", 1)
    ]  # fmt: skip


def test_pseudonyms_are_keyed_and_stable():
    assert history.pseudonymize("u1", b"k") == history.pseudonymize("u1", b"k")
    assert history.pseudonymize("u1", b"k") != history.pseudonymize("u1", b"other")
    assert len(history.pseudonymize("u1", b"k")) == 24 and "u1" not in history.pseudonymize(
        "u1", b"k"
    )
