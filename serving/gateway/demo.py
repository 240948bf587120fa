"""The gateway's part of `rtrec demo`: one shopper's story told through the public API.

A new user browses one category, gets recommendations (with reasons), clicks two items of
another category and gets recommendations that follow the clicks at once; then an item nobody
has seen, written like the clicked ones, is added through ``POST /v1/items`` and shows up in the
user's list as a "new item" without retraining. Everything goes over HTTP (httpx) exactly as a
product's front end would call it, so the story also proves a running gateway end to end.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from rtrec import contract as c


class DemoError(RuntimeError):
    """The gateway answered the story with an error; the message has its answer."""


def _call(http: httpx.Client, method: str, path: str, **kwargs) -> dict:
    answer = http.request(method, path, **kwargs)
    if answer.status_code != 200:
        raise DemoError(f"{method} {path} -> {answer.status_code}: {answer.text[:500]}")
    return answer.json()


def _table(title: str, answer: dict) -> Table:
    table = Table(title=f"{title} (arm {answer['arm']}, model version {answer['model_version']})")
    for column, justify in (("#", "right"), ("item", "left"), ("score", "right"),
                            ("reason", "left")):  # fmt: skip
        table.add_column(column, justify=justify)
    for rank, item in enumerate(answer["items"], 1):
        table.add_row(str(rank), item["item_id"], f"{item['score']:.3f}", item["reason"])
    return table


def _groups(catalog: Sequence[Mapping[str, str]]) -> list[list[Mapping[str, str]]]:
    """Catalog rows by their category cell ("A|B"), largest groups first."""
    groups: dict[tuple[str, ...], list] = defaultdict(list)
    for row in catalog:
        groups[c.split_categories(row.get(c.CATEGORY, ""))].append(row)
    return sorted(groups.values(), key=len, reverse=True)


def _to_click(
    shown: dict, groups: list[list[Mapping[str, str]]], browsed: list[Mapping[str, str]]
) -> list[Mapping[str, str]]:
    """Two items of another category than the browsed one: the first shown one (so the click
    is credited to the response's arm) and its category's first other item."""
    rows = {row[c.ITEM_ID]: row for group in groups for row in group}
    first = c.split_categories(browsed[0].get(c.CATEGORY, ""))
    for item in shown["items"]:
        row = rows.get(item["item_id"])
        if row is not None and c.split_categories(row.get(c.CATEGORY, "")) != first:
            group = next(g for g in groups if row in g)
            return [row, next(r for r in group if r is not row)]
    return groups[1][:2]


def run_demo_story(
    gateway_url: str,
    token: str,
    console: Console,
    catalog: Sequence[Mapping[str, str]] = (),
    user_id: str | None = None,
    k: int = 5,
) -> dict[str, Any]:
    """Tell the story on the gateway at ``gateway_url``; returns what each step showed.

    ``catalog`` holds item rows in the item contract (``item_id``, ``title``, ``category``,
    ``description``), e.g. the demo world's items file; browsing and clicking use two of its
    categories. ``user_id`` defaults to a fresh id, so the story starts from a cold start.
    """
    groups = [g for g in _groups(catalog) if len(g) >= 3]
    if len(groups) < 2:
        raise DemoError("the demo needs a catalog with two categories of at least 3 items each")
    browsed = groups[0][:3]
    user = user_id or f"demo-shopper-{int(time.time())}"
    headers = {"Authorization": f"Bearer {token}"}
    now = time.time()
    with httpx.Client(base_url=gateway_url, headers=headers, timeout=30.0) as http:
        path = f"/v1/users/{user}/recommendations"
        cold = _call(http, "GET", path, params={"k": k})
        console.print(_table(f"{user}, before any event (cold start)", cold))
        views = [
            {"user_id": user, "item_id": row[c.ITEM_ID], "event_type": c.VIEW,
             "timestamp": now - 600 + 30 * n, "session_id": "demo"}
            for n, row in enumerate(browsed)
        ]  # fmt: skip
        _call(http, "POST", "/v1/events", json={"events": views})
        console.print(f"{user} viewed " + ", ".join(r[c.ITEM_ID] for r in browsed))
        before = _call(http, "GET", path, params={"k": k})
        console.print(_table("Recommendations after browsing", before))
        clicked = _to_click(before, groups, browsed)
        clicks = [
            {"user_id": user, "item_id": row[c.ITEM_ID], "event_type": c.CLICK,
             "timestamp": now - 60 + 10 * n, "session_id": "demo",
             "request_id": before["request_id"]}
            for n, row in enumerate(clicked)
        ]  # fmt: skip
        posted = _call(http, "POST", "/v1/events", json={"events": clicks})
        console.print(f"{user} clicked " + ", ".join(r[c.ITEM_ID] for r in clicked)
                      + f" ({posted['attributed']} credited to arm {before['arm']})")  # fmt: skip
        after = _call(http, "GET", path, params={"k": k})
        console.print(_table("Recommendations right after the clicks", after))
        model = clicked[-1]
        new_item = {
            c.ITEM_ID: f"new-{model[c.ITEM_ID]}-{int(now)}",
            c.TITLE: model.get(c.TITLE, ""),
            c.DESCRIPTION: model.get(c.DESCRIPTION, ""),
            c.CATEGORY: model.get(c.CATEGORY, ""),
        }
        _call(http, "POST", "/v1/items", json={"items": [new_item]})
        console.print(f"Added {new_item[c.ITEM_ID]} through POST /v1/items ({new_item[c.TITLE]!r})")
        with_new = _call(http, "GET", path, params={"k": 2 * k})
        console.print(_table("Recommendations with the new item, no retraining", with_new))
        ranks = [
            n for n, i in enumerate(with_new["items"], 1) if i["item_id"] == new_item[c.ITEM_ID]
        ]
        console.print(f"{new_item[c.ITEM_ID]} is at rank {ranks[0]}" if ranks else
                      f"{new_item[c.ITEM_ID]} is not in the top {2 * k}")  # fmt: skip
    return {
        "user_id": user,
        "cold_start": [i["item_id"] for i in cold["items"]],
        "before": [i["item_id"] for i in before["items"]],
        "after": [i["item_id"] for i in after["items"]],
        "clicked": [r[c.ITEM_ID] for r in clicked],
        "attributed": posted["attributed"],
        "new_item": new_item[c.ITEM_ID],
        "with_new_item": with_new["items"],
    }
