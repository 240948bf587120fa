"""Tombstone files: what the gateway writes is what ingestion reads; bad lines fail loudly."""

from __future__ import annotations

import pytest

from rtrec.tombstones import read_tombstones, tombstone_line


def test_tombstones_round_trip_over_files_and_globs(tmp_path) -> None:
    (tmp_path / "a.jsonl").write_bytes(tombstone_line("ab12" * 6, 1.0) + b"\n")
    (tmp_path / "b.jsonl").write_bytes(tombstone_line("cd34" * 6, 2.0) * 2)
    assert read_tombstones(str(tmp_path / "a.jsonl")) == {"ab12" * 6}
    assert read_tombstones(str(tmp_path / "*.jsonl")) == {"ab12" * 6, "cd34" * 6}
    assert read_tombstones(str(tmp_path / "missing.jsonl")) == frozenset()
    assert read_tombstones("") == frozenset()


@pytest.mark.parametrize("line", [b"not json\n", b'{"user": "x"}\n', b'{"user_key": 7}\n'])
def test_a_line_that_is_not_a_tombstone_names_its_file_and_line(tmp_path, line) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(tombstone_line("ab12" * 6, 1.0) + line)
    with pytest.raises(ValueError, match=r"t.jsonl line 2"):
        read_tombstones(str(path))
