"""Shared fixtures for the sample-world tests: one tiny world per session and a time parser."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from rtrec.data.world import World, generate_world

SEED = 7


def parse_seconds(values: pd.Series) -> np.ndarray:
    """Unix seconds for integer or ISO-8601 strings, NaN where the string is not a time."""
    text = values.astype(str)
    digits = text.str.fullmatch(r"\d+").to_numpy()
    out = np.full(len(text), np.nan)
    out[digits] = text[digits].astype(np.int64).to_numpy()
    iso = pd.to_datetime(text[~digits], format="%Y-%m-%dT%H:%M:%SZ", errors="coerce", utc=True)
    seconds = (iso - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    out[~digits] = seconds.to_numpy()
    return out


@pytest.fixture(scope="session")
def tiny() -> World:
    """The tiny world every test reads; generated once because it never changes."""
    return generate_world("tiny", SEED)


@pytest.fixture(scope="session")
def seconds() -> Callable[[pd.Series], np.ndarray]:
    """The timestamp parser, as a fixture so test modules need not import conftest."""
    return parse_seconds
