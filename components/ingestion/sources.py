"""Row-by-row readers for CSV, JSON Lines, JSON arrays and Parquet that keep each row's position.

Written by hand rather than with ``beam.io.ReadFromText``/``ReadFromParquet`` because ingestion
must dead-letter a malformed row with its file and line (a CSV row with the wrong number of
fields, a JSONL line that is not an object, a line with bytes that are not UTF-8) instead of
failing the pipeline, and must know each row's input position so that ties in time are broken
the same way for every file format. CSV and JSONL files are streamed, so memory stays flat
whatever their size; a ``.json`` file holding one JSON array is read whole.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow.parquet as pq

from components.ingestion.decoding import UTF8_BOM, check_utf8, decode_line, line_problem, shown
from rtrec import reasons as r
from rtrec.data.tables import InputError, file_format, holds_json_array, resolve_files
from rtrec.validation import RawRow

csv.field_size_limit(10_000_000)
MAX_RAW_CHARS = 10_000
"""Longest raw text kept in a dead letter for a row that could not be split into fields."""


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Lines:
    """A binary file's lines as text, remembering the bytes and problems since the last take.

    ``csv.reader`` pulls exactly the lines of one record (several when a quoted field holds
    newlines) before it returns the record, so ``take`` tells what that record was made of.
    """

    def __init__(self, handle: BinaryIO):
        self.handle = handle
        self.raw: list[bytes] = []
        self.problem = ""
        self.first = True

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            if self.first:
                raw, self.first = raw.removeprefix(UTF8_BOM), False
            self.raw.append(raw)
            self.problem = self.problem or line_problem(raw)
            yield decode_line(raw)

    def take(self) -> tuple[bytes, str]:
        raw, problem = b"".join(self.raw), self.problem
        self.raw, self.problem = [], ""
        return raw, problem


def _nul_field(fields: dict[str, str]) -> str:
    """A problem when a field holds a NUL character (from a JSON escape or a Parquet string)."""
    for key, value in fields.items():
        if "\x00" in value:
            return f"field {key!r} holds a NUL character"
    return ""


def _read_csv(path: str, index: int) -> Iterator[RawRow]:
    with open(path, "rb") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        lines.take()
        row = 0
        while True:
            try:
                fields = next(reader, None)
            except csv.Error as err:  # e.g. a field over the size limit: this record only
                raw, _ = lines.take()
                detail = f"CSV error: {err}"
                yield RawRow(
                    path, index, row, reader.line_num, None, shown(raw), r.MALFORMED_ROW, detail
                )
                row += 1
                continue
            if fields is None:
                return
            raw, problem = lines.take()
            line = reader.line_num
            if problem:
                yield RawRow(path, index, row, line, None, shown(raw), r.BAD_BYTES, problem)
            elif not fields:
                continue  # blank line
            elif len(fields) != len(header):
                detail = f"{len(fields)} fields where the header has {len(header)}"
                raw_text = ",".join(fields)
                yield RawRow(path, index, row, line, None, raw_text, r.MALFORMED_ROW, detail)
            else:
                yield _row(path, index, row, line, dict(zip(header, fields)))
            row += 1


def _row(path: str, index: int, row: int, line: int, fields: dict[str, str]) -> RawRow:
    problem = _nul_field(fields)
    if problem:
        return RawRow(path, index, row, line, None, json.dumps(fields), r.BAD_BYTES, problem)
    return RawRow(path, index, row, line, fields, "")


def _object_row(path: str, index: int, row: int, line: int, obj: Any, text: str) -> RawRow:
    if isinstance(obj, dict):
        return _row(path, index, row, line, {str(k): _to_text(v) for k, v in obj.items()})
    detail = f"a JSON {type(obj).__name__} where an object was expected"
    return RawRow(path, index, row, line, None, text[:MAX_RAW_CHARS], r.MALFORMED_ROW, detail)


def _read_jsonl(path: str, index: int) -> Iterator[RawRow]:
    with open(path, "rb") as handle:
        row = 0
        for line_no, raw in enumerate(handle, start=1):
            if line_no == 1:
                raw = raw.removeprefix(UTF8_BOM)
            if not raw.strip():
                continue
            problem = line_problem(raw)
            if problem:
                text = shown(raw)[:MAX_RAW_CHARS]
                yield RawRow(path, index, row, line_no, None, text, r.BAD_BYTES, problem)
                row += 1
                continue
            text = raw.decode("utf-8").strip()
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                detail = f"not JSON: {err.msg} at column {err.colno}"
                yield RawRow(
                    path, index, row, line_no, None, text[:MAX_RAW_CHARS], r.MALFORMED_ROW, detail
                )
            else:
                yield _object_row(path, index, row, line_no, obj, text)
            row += 1


def _read_json_array(path: str, index: int) -> Iterator[RawRow]:
    """Each element of the array is a row; its line is where the element starts."""
    with open(path, "rb") as handle:
        text = handle.read().removeprefix(UTF8_BOM).decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder(strict=False)  # a raw NUL in a string is bad_bytes, below
    pos, line, counted, row = text.index("[") + 1, 1, 0, 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            detail = f"the JSON array breaks here ({err.msg}); the rest of the file was not read"
            raw = text[pos : pos + MAX_RAW_CHARS]
            yield RawRow(path, index, row, line, None, raw, r.MALFORMED_ROW, detail)
            return
        element = text[pos:end]
        problem = line_problem(element.encode("utf-8", "surrogateescape"))
        if problem:
            shown_text = shown(element.encode("utf-8", "surrogateescape"))[:MAX_RAW_CHARS]
            yield RawRow(path, index, row, line, None, shown_text, r.BAD_BYTES, problem)
        else:
            yield _object_row(path, index, row, line, obj, element)
        row, pos = row + 1, end


def _read_json(path: str, index: int) -> Iterator[RawRow]:
    """``.jsonl`` is JSON Lines; ``.json`` is JSON Lines too unless it holds one JSON array."""
    reader = _read_json_array if holds_json_array(path) else _read_jsonl
    yield from reader(path, index)


def _parquet_value(value: Any) -> str | None:
    """A cell as text; None for a binary cell that is not UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return _to_text(value)


def _read_parquet(path: str, index: int) -> Iterator[RawRow]:
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=8192):
        for record in batch.to_pylist():
            fields = {str(k): _parquet_value(v) for k, v in record.items()}
            undecodable = [k for k, v in fields.items() if v is None]
            if undecodable:
                detail = f"binary field {undecodable[0]!r} is not UTF-8"
                raw = repr(record)[:MAX_RAW_CHARS]
                yield RawRow(path, index, row, row + 1, None, raw, r.BAD_BYTES, detail)
            else:
                yield _row(path, index, row, row + 1, fields)
            row += 1


_READERS = {"csv": _read_csv, "jsonl": _read_json, "parquet": _read_parquet}


def read_rows(path: str, index: int = 0) -> Iterator[RawRow]:
    """Yield every data row of one file, in file order."""
    yield from _READERS[file_format(path)](path, index)


def _columns(path: str) -> list[str] | None:
    """The columns a file declares (CSV header, Parquet schema, first JSON object's keys)."""
    kind = file_format(path)
    if kind == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    if kind == "csv":
        with open(path, "rb") as handle:
            header = next(csv.reader(_Lines(handle)), None)
        return [h.strip() for h in header] if header else None
    readable = (row for row in itertools.islice(read_rows(path), 1000) if row.fields is not None)
    first = next(readable, None)
    return list(first.fields) if first else None


def _has_rows(path: str) -> bool:
    if file_format(path) == "parquet":
        return pq.ParquetFile(path).metadata.num_rows > 0
    return next(iter(read_rows(path)), None) is not None


def check_inputs(path: str, required: tuple[str, ...], what: str) -> list[str]:
    """Resolve ``path`` to files and check them before anything is written.

    Raises :class:`InputError` naming the file and what to do when a file is not UTF-8 text
    (CSV, JSON), lacks required columns, or when the input holds no rows at all. Returns the
    resolved files.
    """
    files = resolve_files(path)
    for f in files:
        if file_format(f) != "parquet":
            check_utf8(f, what)
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
