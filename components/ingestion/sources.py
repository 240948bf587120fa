"""Row-by-row readers for CSV, JSONL and Parquet files that keep each row's position.

Written by hand rather than with ``beam.io.ReadFromText``/``ReadFromParquet`` because ingestion
must dead-letter a malformed row with its file and line (a CSV row with the wrong number of
fields, a JSONL line that is not an object) instead of failing the pipeline, and must know each
row's input position so that ties in time are broken the same way for every file format.
Each file is streamed, so memory stays flat whatever its size.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import pyarrow.parquet as pq

from rtrec.data.tables import InputError, file_format, resolve_files

csv.field_size_limit(10_000_000)


class RawRow(NamedTuple):
    """One input row: where it came from and its fields (None when it could not be split)."""

    source: str
    file_index: int
    row: int
    """0-based data-row index in its file: the input order, equal across formats."""
    line: int
    """1-based line in the file (CSV/JSONL) or row number (Parquet), for error messages."""
    fields: dict[str, str] | None
    raw: str
    """The original text, kept for dead-lettering rows that could not be split into fields."""


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_csv(path: str, index: int) -> Iterator[RawRow]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        row = 0
        for fields in reader:
            if not fields:
                continue  # blank line
            line = reader.line_num
            if len(fields) != len(header):
                yield RawRow(path, index, row, line, None, ",".join(fields))
            else:
                yield RawRow(path, index, row, line, dict(zip(header, fields)), "")
            row += 1


def _read_jsonl(path: str, index: int) -> Iterator[RawRow]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        row = 0
        for line_no, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError:
                obj = None
            if isinstance(obj, dict):
                fields = {str(k): _to_text(v) for k, v in obj.items()}
                yield RawRow(path, index, row, line_no, fields, "")
            else:
                yield RawRow(path, index, row, line_no, None, text[:10_000])
            row += 1


def _read_parquet(path: str, index: int) -> Iterator[RawRow]:
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=8192):
        for record in batch.to_pylist():
            fields = {str(k): _to_text(v) for k, v in record.items()}
            yield RawRow(path, index, row, row + 1, fields, "")
            row += 1


_READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}


def read_rows(path: str, index: int = 0) -> Iterator[RawRow]:
    """Yield every data row of one file, in file order."""
    yield from _READERS[file_format(path)](path, index)


def _columns(path: str) -> list[str] | None:
    """The columns a file declares (CSV header, Parquet schema, first JSONL object's keys)."""
    kind = file_format(path)
    if kind == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    first = next(iter(_READERS[kind](path, 0)), None)
    if kind == "csv":
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle), None)
        return [h.strip() for h in header] if header else None
    return list(first.fields) if first and first.fields else None


def _has_rows(path: str) -> bool:
    if file_format(path) == "parquet":
        return pq.ParquetFile(path).metadata.num_rows > 0
    return next(iter(read_rows(path)), None) is not None


def check_inputs(path: str, required: tuple[str, ...], what: str) -> list[str]:
    """Resolve ``path`` to files and check them before anything is written.

    Raises :class:`InputError` naming the file and the missing required columns, or saying that
    the input holds no rows at all. Returns the resolved files.
    """
    files = resolve_files(path)
    for f in files:
        columns = _columns(f)
        if columns is None:
            continue  # an empty file; judged with the others below
        missing = [col for col in required if col not in columns]
        if missing:
            raise InputError(
                f"{what} file {f} lacks required column(s) {missing}; it has {columns}. "
                f"Required: {list(required)}."
            )
    if not any(_has_rows(f) for f in files):
        raise InputError(f"{what} input {path} holds no data rows ({len(files)} file(s) read).")
    return files
