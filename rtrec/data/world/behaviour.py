"""Sample-world sessions turned into clean events: a next-item walk and per-item funnels.

The next item depends mostly on the last one (a similar item of the same type, or a complement
from the planted graph), sometimes on the user's other interest and rarely on popularity, so a
model must use recent behaviour and item text; popularity alone predicts little.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtrec import contract as c
from rtrec.data.world import text
from rtrec.data.world.sampling import ItemSampler
from rtrec.data.world.sizes import END_S
from rtrec.data.world.users import Sessions, Users

# Next-item mixture; whatever is left after these three is a globally popular item.
P_SIMILAR, P_COMPLEMENT, P_OTHER_INTEREST = 0.5, 0.3, 0.12
P_SAME_BRAND = 0.5
# Session length is geometric: it ends after each item with this probability.
P_SESSION_END = 1.0 / 6.0
MAX_STEPS = 30
# Funnel, each conditional on the previous stage.
P_SEARCH, P_CLICK, P_CART, P_PURCHASE, P_RATE = 0.12, 0.5, 0.3, 0.5, 0.35
RATING_P = (0.05, 0.08, 0.17, 0.35, 0.35)
# Expected clean events per session step, used to size the number of sessions.
EVENTS_PER_STEP = 1.74

VIEW, CLICK, CART, PURCHASE, RATE, SEARCH = range(len(c.EVENT_TYPES))


@dataclass(frozen=True)
class EventLog:
    """Clean events as parallel arrays in generation order (item -1 for searches)."""

    user: np.ndarray
    item: np.ndarray
    event_type: np.ndarray
    ts: np.ndarray
    value: np.ndarray
    query: np.ndarray
    session: np.ndarray
    n_sessions: int

    def __len__(self) -> int:
        return len(self.user)


def simulate(
    users: Users, sessions: Sessions, sampler: ItemSampler, rng: np.random.Generator
) -> EventLog:
    """Walk every session step by step (all sessions at once) and emit its funnel events."""
    n_s = sessions.n
    length = np.minimum(rng.geometric(P_SESSION_END, n_s), MAX_STEPS)
    clock = sessions.start_s.astype(np.int64).copy()
    last = np.full(n_s, -1, dtype=np.int64)
    steps: list[dict[str, np.ndarray]] = []
    for s in range(int(length.max())):
        act = np.flatnonzero(length > s)
        n = len(act)
        user = sessions.user[act]
        if s == 0:
            item = _interest_item(sessions.anchor_type[act], user, users, sampler, rng)
        else:
            item = _next_item(last[act], sessions.other_type[act], user, users, sampler, rng)
        item = sampler.available(item, clock[act])
        search = rng.random(n) < P_SEARCH
        click = search | (rng.random(n) < P_CLICK)
        cart = click & (rng.random(n) < P_CART)
        purchase = cart & (rng.random(n) < P_PURCHASE)
        t0 = clock[act]
        t_click = t0 + rng.integers(2, 40, n)
        t_cart = t_click + rng.integers(5, 120, n)
        t_buy = t_cart + rng.integers(20, 300, n)
        done = np.where(purchase, t_buy, np.where(cart, t_cart, np.where(click, t_click, t0)))
        clock[act] = done + 5 + rng.exponential(50.0, n).astype(np.int64)
        last[act] = item
        steps.append(
            {
                "session": act,
                "item": item,
                "search": search,
                "click": click,
                "cart": cart,
                "buy": purchase,
                "t0": t0,
                "t_click": t_click,
                "t_cart": t_cart,
                "t_buy": t_buy,
            }
        )
    step = {k: np.concatenate([d[k] for d in steps]) for k in steps[0]}
    return _emit(step, sessions, sampler, rng)


def _interest_item(
    types: np.ndarray,
    user: np.ndarray,
    users: Users,
    sampler: ItemSampler,
    rng: np.random.Generator,
) -> np.ndarray:
    """An item of one of the user's interest types, often from their favourite brand."""
    dept = sampler.catalog.type_department[types]
    branded = sampler.in_type_brand(types, users.favourite_brand[user, dept], rng)
    return np.where(rng.random(len(types)) < P_SAME_BRAND, branded, sampler.in_type(types, rng))


def _next_item(
    prev: np.ndarray,
    other_type: np.ndarray,
    user: np.ndarray,
    users: Users,
    sampler: ItemSampler,
    rng: np.random.Generator,
) -> np.ndarray:
    """The planted transition: similar item, complement, other interest, or popular noise."""
    cat = sampler.catalog
    n = len(prev)
    similar = sampler.similar(prev, rng)
    comp_type = sampler.complement_type(cat.item_type[prev], rng)
    comp = np.where(
        rng.random(n) < P_SAME_BRAND,
        sampler.in_type_brand(comp_type, cat.item_brand[prev], rng),
        sampler.in_type(comp_type, rng),
    )
    other = _interest_item(other_type, user, users, sampler, rng)
    r = rng.random(n)
    item = np.select(
        [
            r < P_SIMILAR,
            r < P_SIMILAR + P_COMPLEMENT,
            r < P_SIMILAR + P_COMPLEMENT + P_OTHER_INTEREST,
        ],
        [similar, comp, other],
        default=sampler.popular(n, rng),
    )
    return np.where(item == prev, similar, item)


def _emit(
    step: dict[str, np.ndarray], sessions: Sessions, sampler: ItemSampler, rng: np.random.Generator
) -> EventLog:
    """Expand steps into event rows (first touch, click, cart, purchase, later rating)."""
    cat = sampler.catalog
    n_steps = len(step["item"])
    rated = step["buy"] & (rng.random(n_steps) < P_RATE)
    t_rate = step["t_buy"] + rng.integers(86_400, 14 * 86_400, n_steps)
    rated &= t_rate < END_S
    rate_value = rng.choice(np.arange(1, 6), n_steps, p=RATING_P)
    rate_session = sessions.n + np.cumsum(rated) - 1

    first_type = np.where(step["search"], SEARCH, VIEW)
    parts = [
        (np.ones(n_steps, dtype=bool), first_type, step["t0"]),
        (step["click"], np.full(n_steps, CLICK), step["t_click"]),
        (step["cart"], np.full(n_steps, CART), step["t_cart"]),
        (step["buy"], np.full(n_steps, PURCHASE), step["t_buy"]),
        (rated, np.full(n_steps, RATE), t_rate),
    ]
    idx = np.concatenate([np.flatnonzero(m) for m, _, _ in parts])
    etype = np.concatenate([t[m] for m, t, _ in parts])
    ts = np.concatenate([t[m] for m, _, t in parts])
    keep = ts < END_S
    idx, etype, ts = idx[keep], etype[keep], ts[keep]

    item = np.where(etype == SEARCH, -1, step["item"][idx])
    value = np.where(etype == RATE, rate_value[idx], 0)
    session = np.where(etype == RATE, rate_session[idx], step["session"][idx])
    query = np.full(len(idx), "", dtype=object)
    searches = np.flatnonzero(etype == SEARCH)
    patterns = rng.integers(0, text.N_QUERY_PATTERNS, len(searches))
    for row, pattern in zip(searches, patterns):
        i = step["item"][idx[row]]
        ptype, brand = cat.types[cat.item_type[i]], cat.brands[cat.item_brand[i]]
        query[row] = text.query(ptype, brand, cat.item_variant[i], cat.item_feature[i], pattern)
    order = np.lexsort((etype, session, ts))
    return EventLog(
        user=sessions.user[step["session"][idx]][order],
        item=item[order],
        event_type=etype[order],
        ts=ts[order],
        value=value[order],
        query=query[order],
        session=session[order],
        n_sessions=int(sessions.n + rated.sum()),
    )
