"""Writing the sample world to CSV, JSONL and Parquet, and reading it back unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from rtrec.data.tables import read_table
from rtrec.data.world import World, generate_world, write_world


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_round_trip(tiny: World, tmp_path: Path, fmt: str) -> None:
    paths = write_world(tiny, str(tmp_path), fmt=fmt)
    assert paths["events"].endswith(f"events.{fmt}")
    pd.testing.assert_frame_equal(read_table(paths["events"]), tiny.events)
    pd.testing.assert_frame_equal(read_table(paths["items"]), tiny.items)
    assert json.loads(Path(paths["manifest"]).read_text()) == tiny.manifest


def test_same_seed_writes_byte_identical_files(tiny: World, tmp_path: Path) -> None:
    again = generate_world("tiny", tiny.manifest["seed"])
    for name, world in (("a", tiny), ("b", again)):
        write_world(world, str(tmp_path / name), fmt="csv")
    for file in ("items.csv", "events.csv", "manifest.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_unknown_format_is_refused(tiny: World, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="parquet"):
        write_world(tiny, str(tmp_path), fmt="xlsx")
