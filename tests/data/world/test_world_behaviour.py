"""The structure planted in clean behaviour is there, and popularity alone does not explain it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rtrec import contract
from rtrec.data.world import World
from rtrec.data.world.sizes import END_S, START_S

Parser = Callable[[pd.Series], np.ndarray]
ITEM_EVENTS = (contract.VIEW, contract.CLICK, contract.ADD_TO_CART, contract.PURCHASE)


def transitions(world: World, seconds: Parser) -> pd.DataFrame:
    """Consecutive distinct items within each session of the clean events, in true time order."""
    ev = world.clean_events()
    ev = ev[ev[contract.EVENT_TYPE].isin(ITEM_EVENTS)].copy()
    ev["t"] = seconds(ev[contract.TIMESTAMP])
    ev = ev.sort_values([contract.SESSION_ID, "t"], kind="stable")
    prev = ev.groupby(contract.SESSION_ID)[contract.ITEM_ID].shift()
    moves = pd.DataFrame({"prev": prev, "next": ev[contract.ITEM_ID]}).dropna()
    return moves[moves["prev"] != moves["next"]]


def test_next_item_follows_type_or_complement(tiny: World, seconds: Parser) -> None:
    moves = transitions(tiny, seconds)
    item_type, complements = tiny.truth.item_type(), tiny.truth.complements()
    prev_t, next_t = moves["prev"].map(item_type), moves["next"].map(item_type)
    related = [n == p or n in complements[p] for p, n in zip(prev_t, next_t)]
    assert len(moves) > 500
    assert np.mean(related) > 0.6
    # Chance level: how often a random pair of items is related the same way.
    shuffled = next_t.sample(frac=1.0, random_state=0).to_numpy()
    chance = np.mean([n == p or n in complements[p] for p, n in zip(prev_t, shuffled)])
    assert np.mean(related) > 3 * chance


def test_popularity_alone_is_weak(tiny: World, seconds: Parser) -> None:
    moves = transitions(tiny, seconds)
    top10 = tiny.clean_events()[contract.ITEM_ID].replace("", pd.NA).value_counts().index[:10]
    assert moves["next"].isin(top10).mean() < 0.3


def test_search_is_followed_by_a_matching_click(tiny: World, seconds: Parser) -> None:
    ev = tiny.clean_events().copy()
    ev["t"] = seconds(ev[contract.TIMESTAMP])
    ev = ev.sort_values([contract.SESSION_ID, "t"], kind="stable")
    after = ev.groupby(contract.SESSION_ID).shift(-1)
    searches = ev[contract.EVENT_TYPE] == contract.SEARCH
    assert searches.sum() > 50
    assert (ev.loc[searches, contract.ITEM_ID] == "").all()
    titles = tiny.items.drop_duplicates(contract.ITEM_ID).set_index(contract.ITEM_ID)[
        contract.TITLE
    ]
    followed, shared = [], []
    for query, event_type, item in zip(
        ev.loc[searches, contract.QUERY],
        after.loc[searches, contract.EVENT_TYPE],
        after.loc[searches, contract.ITEM_ID],
    ):
        followed.append(event_type == contract.CLICK)
        if event_type == contract.CLICK:
            words = set(titles[item].lower().replace(",", " ").split())
            shared.append(bool(set(query.split()) & words) or titles[item] == "")
    # A few clicks were corrupted into dirty rows, so "almost all" rather than "all".
    assert np.mean(followed) > 0.95
    assert all(shared)


def test_late_items_have_no_events_before_creation(tiny: World, seconds: Parser) -> None:
    late = tiny.truth.late_items()
    assert len(late) == tiny.manifest["late_item_ids_count"] > 0
    assert min(late.values()) >= START_S + 0.8 * (END_S - START_S)
    ev = tiny.events
    ts = seconds(ev[contract.TIMESTAMP])
    created = ev[contract.ITEM_ID].map(late).to_numpy(dtype=float)
    assert not (ts < created).any()
    assert ev[contract.ITEM_ID].isin(late).sum() > 0


def test_late_users_start_late(tiny: World, seconds: Parser) -> None:
    users = tiny.truth.users
    assert users.late.sum() == tiny.manifest["late_users_count"] > 0
    ev = tiny.clean_events()
    first = pd.Series(seconds(ev[contract.TIMESTAMP])).groupby(ev[contract.USER_ID].values).min()
    late_ids = [f"u{k + 1:06d}" for k in np.flatnonzero(users.late)]
    assert (first.reindex(late_ids).dropna() >= START_S + 0.7 * (END_S - START_S)).all()


def test_bots_fire_over_200_events_a_minute(tiny: World, seconds: Parser) -> None:
    ev = tiny.events
    for bot in tiny.truth.bot_user_ids:
        rows = ev[ev[contract.USER_ID] == bot]
        ts = seconds(rows[contract.TIMESTAMP])
        assert len(rows) >= 200
        assert (rows[contract.EVENT_TYPE] == contract.VIEW).all()
        assert len(rows) / max((ts.max() - ts.min()) / 60.0, 1 / 60) >= 200
        assert rows[contract.ITEM_ID].isin(set(tiny.items[contract.ITEM_ID])).all()


def test_funnels_run_forward_in_time(tiny: World, seconds: Parser) -> None:
    ev = tiny.clean_events().copy()
    ev["t"] = seconds(ev[contract.TIMESTAMP])
    first = ev.groupby([contract.SESSION_ID, contract.ITEM_ID, contract.EVENT_TYPE])["t"].min()
    first = first.unstack()
    both = first[[contract.VIEW, contract.CLICK]].dropna()
    assert len(both) > 100 and (both[contract.VIEW] < both[contract.CLICK]).mean() > 0.9
    counts = ev[contract.EVENT_TYPE].value_counts()
    assert counts[contract.VIEW] > counts[contract.CLICK] > counts[contract.ADD_TO_CART]
    assert counts[contract.ADD_TO_CART] > counts[contract.PURCHASE] > counts[contract.RATE] > 0
    rates = ev.loc[ev[contract.EVENT_TYPE] == contract.RATE, contract.VALUE].astype(int)
    assert rates.between(1, 5).all()


def test_timestamps_mix_iso_and_unix_and_are_mostly_ordered(tiny: World, seconds: Parser) -> None:
    ts_text = tiny.clean_events()[contract.TIMESTAMP]
    iso_share = ts_text.str.endswith("Z").mean()
    assert 0.05 < iso_share < 0.15
    ts = seconds(tiny.clean_events()[contract.TIMESTAMP])
    backwards = np.mean(np.diff(ts) < 0)
    assert 0.005 < backwards < 0.05


def test_interests_drift_between_sessions(tiny: World, seconds: Parser) -> None:
    ev = tiny.clean_events()
    ev = ev[ev[contract.EVENT_TYPE].isin(ITEM_EVENTS)].copy()
    ev["t"] = seconds(ev[contract.TIMESTAMP])
    ev["type"] = ev[contract.ITEM_ID].map(tiny.truth.item_type())
    first = ev.dropna(subset=["type"]).sort_values("t").groupby(contract.SESSION_ID).first()
    per_user = first.groupby(contract.USER_ID)["type"].agg(["nunique", "size"])
    per_user = per_user[per_user["size"] >= 4]
    number = per_user.index.str[1:].astype(int) - 1
    n_interests = tiny.truth.users.n_interests[number]
    # Without drift a user's sessions could only start in their 1-3 initial interest types.
    assert len(per_user) > 20
    assert np.mean(per_user["nunique"].to_numpy() > n_interests) > 0.2
