"""Sample-world shoppers: latent interests, brand affinity, join dates and drifting sessions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtrec.data.world.catalog import Catalog
from rtrec.data.world.products import DEPARTMENTS
from rtrec.data.world.sampling import ItemSampler
from rtrec.data.world.sizes import END_S, LATE_USER_WINDOW, START_S

LATE_USER_FRACTION = 0.1
# Late users are active for a short time, so they get proportionally fewer sessions.
LATE_USER_SESSION_FACTOR = 0.4
MAX_INTERESTS = 3
# Chance, per session, that one of the user's interests moves to a new product type.
INTEREST_DRIFT = 0.25
_LAST_SESSION_MARGIN_S = 6 * 3_600


@dataclass(frozen=True)
class Users:
    """Per-user latent state; ``interests[u, :n_interests[u]]`` are product type numbers."""

    join_s: np.ndarray
    late: np.ndarray
    interests: np.ndarray
    n_interests: np.ndarray
    favourite_brand: np.ndarray

    @property
    def n(self) -> int:
        """Number of (non-bot) users."""
        return len(self.join_s)


@dataclass(frozen=True)
class Sessions:
    """Sessions sorted by user then start; ``anchor``/``other`` are the interests in play."""

    user: np.ndarray
    start_s: np.ndarray
    anchor_type: np.ndarray
    other_type: np.ndarray

    @property
    def n(self) -> int:
        """Number of sessions."""
        return len(self.user)


def draw_users(n_users: int, catalog: Catalog, rng: np.random.Generator) -> Users:
    """Give every user 1-3 interests (often complementary) and a favourite brand per department."""
    n_types = len(catalog.types)
    late = np.zeros(n_users, dtype=bool)
    late[rng.choice(n_users, round(LATE_USER_FRACTION * n_users), replace=False)] = True
    join = np.full(n_users, START_S, dtype=np.int64)
    late_from = END_S - int(LATE_USER_WINDOW * (END_S - START_S))
    join[late] = rng.integers(late_from, END_S - 3 * 86_400, late.sum())

    sampler_weights = catalog.type_weight
    first = rng.choice(n_types, n_users, p=sampler_weights)
    comp_col = (rng.random(n_users) * np.maximum(catalog.n_complements[first], 1)).astype(int)
    comp = np.where(catalog.n_complements[first] > 0, catalog.complements[first, comp_col], first)
    second = np.where(
        rng.random(n_users) < 0.5, comp, rng.choice(n_types, n_users, p=sampler_weights)
    )
    third = rng.choice(n_types, n_users, p=sampler_weights)
    interests = np.stack([first, second, third], axis=1).astype(np.int64)
    n_interests = rng.integers(1, MAX_INTERESTS + 1, n_users)

    brand_start = np.cumsum([0] + [len(d.brands) for d in DEPARTMENTS])
    n_brands = np.diff(brand_start)
    favourite = brand_start[:-1][None, :] + (
        rng.random((n_users, len(DEPARTMENTS))) * n_brands[None, :]
    ).astype(np.int64)
    return Users(join, late, interests, n_interests, favourite)


def draw_sessions(
    users: Users,
    sessions_per_user: float,
    sampler: ItemSampler,
    rng: np.random.Generator,
) -> Sessions:
    """Spread sessions over each user's active time and let interests drift between them."""
    factor = np.where(users.late, LATE_USER_SESSION_FACTOR, 1.0)
    counts = 1 + rng.poisson(max(sessions_per_user - 1.0, 0.0) * factor)
    user = np.repeat(np.arange(users.n), counts)
    last_start = END_S - _LAST_SESSION_MARGIN_S
    span = last_start - users.join_s[user]
    start = users.join_s[user] + (rng.random(len(user)) * span).astype(np.int64)
    order = np.lexsort((start, user))
    user, start = user[order], start[order]
    rank = np.arange(len(user)) - np.repeat(np.cumsum(counts) - counts, counts)

    catalog = sampler.catalog
    interests = users.interests.copy()
    anchor = np.empty(len(user), dtype=np.int64)
    other = np.empty(len(user), dtype=np.int64)
    for k in range(int(counts.max())):
        idx = np.flatnonzero(rank == k)
        u = user[idx]
        n_int = users.n_interests[u]
        drift = u[rng.random(len(u)) < INTEREST_DRIFT]
        if len(drift):
            slot = (rng.random(len(drift)) * users.n_interests[drift]).astype(np.int64)
            nearby = sampler.complement_type(interests[drift, slot], rng)
            anywhere = rng.choice(len(catalog.types), len(drift), p=catalog.type_weight)
            interests[drift, slot] = np.where(rng.random(len(drift)) < 0.5, nearby, anywhere)
        slot = (rng.random(len(u)) * n_int).astype(np.int64)
        anchor[idx] = interests[u, slot]
        other[idx] = interests[u, (slot + 1) % n_int]
    return Sessions(user, start, anchor, other)
