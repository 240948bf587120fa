"""Tests for reading and writing contract tables as CSV, JSONL and Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rtrec import contract
from rtrec.data.tables import InputError, file_format, read_table, resolve_files, write_table

FORMATS = ("csv", "jsonl", "parquet")


def contract_events() -> pd.DataFrame:
    """A small event table with the awkward values real data has: commas, quotes, blanks."""
    return pd.DataFrame(
        {
            contract.USER_ID: ["u1", "u2", "u3"],
            contract.ITEM_ID: ["i1", "", "i3"],
            contract.EVENT_TYPE: [contract.VIEW, contract.SEARCH, contract.RATE],
            contract.TIMESTAMP: [964982703, 1445714994, 1500000000],
            contract.VALUE: [1.0, 0.0, 3.5],
            contract.QUERY: ["", 'red "running" shoes, size 9', ""],
            contract.SESSION_ID: ["s1", "s2", ""],
        }
    )


def contract_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            contract.ITEM_ID: ["i1", "i3"],
            contract.TITLE: ['Postman, The "Il Postino" (1994)', "Café"],
            contract.DESCRIPTION: ["Released 1994.", ""],
            contract.CATEGORY: ["Comedy|Drama", ""],
            contract.CREATED_AT: ["1994-01-01", ""],
        }
    )


def touch(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a\n1\n")
    return str(path)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("e.csv", "csv"), ("e.JSONL", "jsonl"), ("e.json", "jsonl"), ("e.parquet", "parquet")],
)
def test_file_format(name: str, kind: str) -> None:
    assert file_format(name) == kind


def test_file_format_rejects_unknown_extension() -> None:
    with pytest.raises(InputError, match=r"e\.txt: unsupported file extension '\.txt'"):
        file_format("e.txt")


def test_resolve_single_file(tmp_path: Path) -> None:
    path = touch(tmp_path / "events.csv")
    assert resolve_files(path) == [path]


def test_resolve_folder_is_recursive_and_skips_other_files(tmp_path: Path) -> None:
    b = touch(tmp_path / "b.csv")
    a = touch(tmp_path / "part" / "a.parquet")
    touch(tmp_path / "README.txt")
    assert resolve_files(str(tmp_path)) == sorted([a, b])


def test_resolve_glob(tmp_path: Path) -> None:
    one = touch(tmp_path / "events-1.csv")
    two = touch(tmp_path / "events-2.jsonl")
    touch(tmp_path / "items.csv")
    assert resolve_files(str(tmp_path / "events-*")) == [one, two]


def test_resolve_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file, folder or glob match"):
        resolve_files(str(tmp_path / "nope.csv"))


def test_resolve_glob_or_folder_matching_nothing(tmp_path: Path) -> None:
    touch(tmp_path / "README.txt")
    with pytest.raises(InputError, match="matched no"):
        resolve_files(str(tmp_path))
    with pytest.raises(InputError, match="matched no"):
        resolve_files(str(tmp_path / "*.csv"))


def test_resolve_unsupported_file(tmp_path: Path) -> None:
    path = touch(tmp_path / "events.txt")
    with pytest.raises(InputError, match="unsupported file extension"):
        resolve_files(path)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("make", [contract_events, contract_items])
def test_round_trip(tmp_path: Path, fmt: str, make) -> None:
    table = make()
    path = write_table(table, str(tmp_path / "nested" / f"table.{fmt}"))
    assert Path(path).is_file()
    expected = table.astype(str)
    pd.testing.assert_frame_equal(read_table(path), expected)


def test_read_folder_concatenates_files(tmp_path: Path) -> None:
    events = contract_events()
    write_table(events.iloc[:2], str(tmp_path / "part-0.csv"))
    write_table(events.iloc[2:], str(tmp_path / "part-1.parquet"))
    pd.testing.assert_frame_equal(read_table(str(tmp_path)), events.astype(str))


def test_a_json_file_may_hold_one_array(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(contract_events().to_json(orient="records", indent=2))
    table = read_table(str(path))
    assert list(table[contract.USER_ID]) == ["u1", "u2", "u3"]
