"""Reading and writing event and item tables as CSV, JSONL or Parquet, chosen by file extension.

Used by the sample-world generator, the MovieLens adapter and the benchmarks, which all hold
whole tables in memory. The Beam ingestion reads row by row instead (see
``components/ingestion/sources.py``) so that bad rows can be dead-lettered with their line number.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pandas as pd

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".csv", ".jsonl", ".json", ".parquet")


class InputError(ValueError):
    """An input path or file does not meet the input contract."""


def file_format(path: str) -> str:
    """Return ``csv``, ``jsonl`` or ``parquet`` for a path, or raise naming the supported kinds."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    raise InputError(
        f"{path}: unsupported file extension {suffix!r}; "
        f"use one of {', '.join(SUPPORTED_EXTENSIONS)}"
    )


def holds_json_array(path: str) -> bool:
    """A ``.json`` file may hold one JSON array instead of JSON Lines."""
    if Path(path).suffix.lower() != ".json":
        return False
    with open(path, "rb") as handle:
        return handle.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"[")


def resolve_files(path: str) -> list[str]:
    """Expand a file, a folder (its supported files, recursively) or a glob into sorted files."""
    if os.path.isdir(path):
        found = [
            str(p)
            for p in Path(path).rglob("*")
            if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS
        ]
    elif any(ch in path for ch in "*?["):
        found = [p for p in glob.glob(path, recursive=True) if os.path.isfile(p)]
    elif os.path.isfile(path):
        found = [path]
    else:
        raise InputError(f"{path}: no such file, folder or glob match")
    if not found:
        raise InputError(f"{path}: matched no {'/'.join(SUPPORTED_EXTENSIONS)} files")
    for f in found:
        file_format(f)
    return sorted(found)


def read_table(path: str) -> pd.DataFrame:
    """Read every file behind ``path`` into one DataFrame of strings (missing values as '')."""
    frames = []
    for f in resolve_files(path):
        kind = file_format(f)
        if kind == "csv":
            frame = pd.read_csv(f, dtype=str, keep_default_na=False)
        elif kind == "jsonl":
            frame = pd.read_json(f, lines=not holds_json_array(f), dtype=False, convert_dates=False)
        else:
            frame = pd.read_parquet(f)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return table.fillna("").astype(str)


def write_table(table: pd.DataFrame, path: str) -> str:
    """Write ``table`` to ``path`` in the format its extension names; return the path."""
    kind = file_format(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        table.to_csv(path, index=False)
    elif kind == "jsonl":
        table.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        table.to_parquet(path, index=False)
    return path
