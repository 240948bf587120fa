"""A/B arms: which TF Serving version label serves a user, decided by a salted hash of the key.

Assignment must be sticky (a user sees one arm for the whole experiment, on every gateway
replica and after restarts) and independent between experiments. So it is a pure function of
(experiment salt, user key) through SHA-256 from the stdlib `hashlib`: Python's `hash()` is
salted per process and would reshuffle users on every restart. The digest's first 53 bits give
a uniform number in [0, 1), exact as a float, that falls into one arm's share of the line.
Written by hand because it is these few lines; no library adds anything here.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SHARE_TOLERANCE = 1e-9


class ExperimentConfigError(ValueError):
    """An experiment whose arms cannot be used as configured; the message names the field."""


@dataclass(frozen=True)
class ArmConfig:
    """One arm: its name in reports, the TF Serving version label it queries, its traffic share."""

    name: str
    label: str
    share: float


@dataclass(frozen=True)
class ExperimentConfig:
    """Arms of one experiment, checked when built; `control` defaults to the first arm.

    Changing `salt` reshuffles every user, so start a new experiment with a new salt and keep
    the salt of a running one.
    """

    name: str
    arms: tuple[ArmConfig, ...]
    salt: str
    control: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        where = f"experiment {self.name!r}"
        if not self.arms:
            raise ExperimentConfigError(f"{where} has no arms: configure at least one")
        if not self.salt:
            raise ExperimentConfigError(
                f"{where} has an empty salt: give each experiment its own, or experiments "
                "that share arms would assign the same users together"
            )
        for arm in self.arms:
            if not arm.name or not arm.label:
                raise ExperimentConfigError(f"{where}: arm {arm} needs a name and a label")
            if not (isinstance(arm.share, int | float) and math.isfinite(arm.share)):
                raise ExperimentConfigError(f"{where}: arm {arm.name!r} share {arm.share!r}")
            if not 0.0 <= arm.share <= 1.0:
                raise ExperimentConfigError(
                    f"{where}: arm {arm.name!r} has share {arm.share}, outside [0, 1]"
                )
        for field in ("name", "label"):
            values = [getattr(arm, field) for arm in self.arms]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ExperimentConfigError(
                    f"{where}: arm {field}s must be unique, repeated: {', '.join(repeated)}"
                )
        total = math.fsum(arm.share for arm in self.arms)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            shares = ", ".join(f"{arm.name}={arm.share}" for arm in self.arms)
            raise ExperimentConfigError(
                f"{where}: arm shares sum to {total!r}, not 1 ({shares}); fix them to add up"
            )
        if self.control is None:
            object.__setattr__(self, "control", self.arms[0].name)
        elif self.control not in {arm.name for arm in self.arms}:
            raise ExperimentConfigError(f"{where}: control {self.control!r} is not one of its arms")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentConfig:
        """From a config file's mapping: ``{"name", "salt", "arms": [{name, label, share}]}``."""
        arms = tuple(ArmConfig(**arm) for arm in data.get("arms", ()))
        return cls(**{**data, "arms": arms})

    def assign(self, user_key: str) -> ArmConfig:
        """The user's arm: the same in every process, Python version and replica."""
        point = bucket(self.salt, user_key)
        upper = 0.0
        for arm in self.arms:
            upper += arm.share
            if point < upper:
                return arm
        # Rounding left a sliver below 1.0 uncovered: it belongs to the last arm that has traffic.
        return [arm for arm in self.arms if arm.share > 0][-1]


def bucket(salt: str, user_key: str) -> float:
    """(salt, user key) -> a number in [0, 1), uniform over keys, from SHA-256's first 53 bits."""
    digest = hashlib.sha256(f"{salt}\x00{user_key}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)
