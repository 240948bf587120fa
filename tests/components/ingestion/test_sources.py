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


HEADER = b"user_id,item_id,event_type,timestamp\n"


def test_a_nul_byte_is_a_bad_row_with_its_line_not_a_crash(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(HEADER + b"u1,a,view,1\nu2,b\x00,view,2\nu3,c,view,3\n\x00\n")
    rows = list(read_rows(str(path)))
    assert [r.fields["user_id"] for r in rows if r.fields] == ["u1", "u3"]
    bad = [r for r in rows if r.fields is None]
    assert [(r.line, r.reason) for r in bad] == [(3, "bad_bytes"), (5, "bad_bytes")]
    assert "NUL byte" in bad[0].detail and bad[0].raw == "u2,b\\x00,view,2"
    assert [r.row for r in rows] == [0, 1, 2, 3]


def test_bytes_that_are_not_utf8_are_a_bad_row_not_replacement_characters(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(HEADER + "u1,café,view,1\n".encode() + b"u2,caf\xe9 cr\xe8me,view,2\n")
    rows = list(read_rows(str(path)))
    assert rows[0].fields["item_id"] == "café"
    assert rows[1].fields is None and rows[1].reason == "bad_bytes" and rows[1].line == 3
    assert rows[1].raw == "u2,caf\\xe9 cr\\xe8me,view,2" and "0xe9" in rows[1].detail
    assert "�" not in repr(rows)
    check_inputs(str(path), c.EVENT_REQUIRED_COLUMNS, "events")  # a UTF-8 file: rows dead-lettered
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_bytes(b'{"user_id": "u1"}\n{"user_id": "caf\xe9"}\n{"user_id": "a\\u0000"}\n')
    assert [r.reason for r in read_rows(str(jsonl))] == ["", "bad_bytes", "bad_bytes"]


def test_a_utf8_bom_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + b"u1,a,view,1\n")
    assert check_inputs(str(path), c.EVENT_REQUIRED_COLUMNS, "events") == [str(path)]
    assert next(read_rows(str(path))).fields["user_id"] == "u1"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf16_file_is_a_clear_error_before_anything_is_written(tmp_path, encoding):
    path = tmp_path / "e.csv"
    path.write_bytes((HEADER.decode() + "u1,café,view,1\n").encode(encoding))
    with pytest.raises(InputError, match=r"UTF-16.*iconv -f UTF-16"):
        check_inputs(str(path), c.EVENT_REQUIRED_COLUMNS, "events")


def test_a_latin1_file_is_a_clear_error_naming_the_conversion(tmp_path):
    path = tmp_path / "items.csv"
    text = "item_id,title\na,Lamp\nb,café crème\nc,Kettle\n"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError, match=r"line 3.*café crème.*iconv -f WINDOWS-1252") as err:
        check_inputs(str(path), c.ITEM_REQUIRED_COLUMNS, "items")
    assert "items.utf8.csv" in str(err.value)


def test_a_json_array_file_is_read_as_rows_with_their_lines(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(ROWS.to_json(orient="records", indent=2))
    assert check_inputs(str(path), c.EVENT_REQUIRED_COLUMNS, "events") == [str(path)]
    rows = list(read_rows(str(path), 1))
    assert [r.fields for r in rows] == ROWS.to_dict("records")
    assert [(r.file_index, r.row, r.line) for r in rows] == [(1, 0, 2), (1, 1, 9)]
    path.write_text('[{"user_id": "u1"}, 7,\n {"user_id": "u2"}, {"user_id": ')
    rows = list(read_rows(str(path)))
    assert [(r.reason, r.line) for r in rows] == [
        ("", 1),
        ("malformed_row", 1),
        ("", 2),
        ("malformed_row", 2),
    ]
    assert "rest of the file was not read" in rows[-1].detail
