"""One way to print a speed benchmark: rows side by side, each rate relative to the first row."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def print_and_save(
    rows: list[dict], title: str, rate: str, label: str, out: str, group: str | None = None
) -> None:
    """Print ``rows`` as a table with a "vs <first row>" ratio of ``rate`` (the first row of
    the same ``group`` value, when rows come in groups such as catalog sizes); write them as
    JSON."""
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, justify="right")
    table.add_column(f"vs {rows[0][label]}", justify="right")
    firsts: dict = {}
    for row in rows:
        base = firsts.setdefault(row[group] if group else None, row[rate])
        table.add_row(*map(str, row.values()), f"{row[rate] / base:.2f}x")
    Console(width=160).print(table)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(rows, indent=2))
