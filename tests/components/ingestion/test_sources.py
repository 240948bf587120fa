"""Row readers: same rows and positions in every format, malformed rows kept, input checks."""

from __future__ import annotations

import pandas as pd
import pytest

from components.ingestion.sources import check_inputs, read_rows
from rtrec import contract as c
from rtrec.data.tables import InputError, write_table

ROWS = pd.DataFrame(
    {
        "user_id": ["u1", "u2"],
        "item_id": ["a", "b,c"],
        "event_type": ["view", "click"],
        "timestamp": ["1700000000", "2023-11-14T22:13:20Z"],
        "value": ["", "4"],
    }
)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_every_format_yields_the_same_rows(tmp_path, fmt):
    path = write_table(ROWS, str(tmp_path / f"events.{fmt}"))
    rows = list(read_rows(path, 3))
    assert [r.fields for r in rows] == ROWS.to_dict("records")
    assert [(r.file_index, r.row) for r in rows] == [(3, 0), (3, 1)]


def test_malformed_rows_are_yielded_not_raised(tmp_path):
    csv_path = tmp_path / "e.csv"
    csv_path.write_text("user_id,item_id,event_type,timestamp\nu1,a,view\n\nu2,b,view,1\n")
    rows = list(read_rows(str(csv_path)))
    assert rows[0].fields is None and rows[0].raw == "u1,a,view" and rows[0].line == 2
    assert rows[1].fields["user_id"] == "u2" and rows[1].row == 1
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text('{"user_id": "u1"}\nnot json\n[1, 2]\n')
    assert [r.fields is None for r in read_rows(str(jsonl))] == [False, True, True]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_missing_required_columns_are_named(tmp_path, fmt):
    path = write_table(ROWS.drop(columns=["event_type", "timestamp"]), str(tmp_path / f"e.{fmt}"))
    with pytest.raises(InputError, match=r"\['event_type', 'timestamp'\]"):
        check_inputs(path, c.EVENT_REQUIRED_COLUMNS, "events")


def test_empty_input_is_a_clear_error(tmp_path):
    (tmp_path / "e.csv").write_text("user_id,item_id,event_type,timestamp\n")
    with pytest.raises(InputError, match="holds no data rows"):
        check_inputs(str(tmp_path / "e.csv"), c.EVENT_REQUIRED_COLUMNS, "events")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="holds no data rows"):
        check_inputs(str(tmp_path / "empty.csv"), c.EVENT_REQUIRED_COLUMNS, "events")


def test_folder_and_glob_inputs(tmp_path):
    write_table(ROWS, str(tmp_path / "d" / "part1.csv"))
    write_table(ROWS, str(tmp_path / "d" / "part2.parquet"))
    assert len(check_inputs(str(tmp_path / "d"), c.EVENT_REQUIRED_COLUMNS, "events")) == 2
    assert len(check_inputs(str(tmp_path / "d" / "*.csv"), c.EVENT_REQUIRED_COLUMNS, "e")) == 1
