"""Named sample-world sizes and the fixed time range every world covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

# Every world covers the same half year, so runs of different sizes are comparable.
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
DAYS = 180
START_S = int(START.timestamp())
END_S = START_S + DAYS * 86_400

# Items created in this last fraction of the time range are cold-start items.
LATE_ITEM_WINDOW = 0.15
# Users who join in this last fraction of the time range are new late.
LATE_USER_WINDOW = 0.2


@dataclass(frozen=True)
class WorldSize:
    """How big a world is; events are a target because sessions are drawn at random."""

    name: str
    n_items: int
    n_users: int
    target_events: int
    types_per_department: int


SIZES: dict[str, WorldSize] = {
    "tiny": WorldSize("tiny", n_items=150, n_users=80, target_events=5_000, types_per_department=4),
    "small": WorldSize("small", 1_000, 600, 40_000, types_per_department=6),
    "default": WorldSize("default", 5_000, 3_000, 300_000, types_per_department=8),
    "large": WorldSize("large", 50_000, 30_000, 3_000_000, types_per_department=8),
}


def get_size(name: str) -> WorldSize:
    """Look a size up by name, failing with the list of valid names so a typo is easy to fix."""
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(
            f"unknown sample-world size {name!r}; choose one of {', '.join(SIZES)}"
        ) from None
