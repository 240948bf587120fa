"""The A/B report: click-through rate per arm, its confidence interval, and each arm vs control.

statsmodels does the statistics: `proportion_confint(method="wilson")` for the interval (it
stays inside [0, 1] and keeps its coverage at small counts and rates near 0, where the normal
interval does not) and `proportions_ztest` for the pooled two-proportion z-test against the
control arm. rich renders the table. This module only counts: an impression is clicked when any
item it showed got a click, so CTR = clicked impressions / impressions, one trial per request.
Values that do not exist (a rate with no impressions, a test with no variance) are None, so
the JSON stays valid JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from serving.gateway.store import Impression, open_store

CONTROL_NAME = "control"


@dataclass
class _Tally:
    impressions: int = 0
    clicks: int = 0
    model_versions: set[str] = field(default_factory=set)


def ab_report(
    impressions: Iterable[Impression],
    *,
    control: str | None = None,
    arms: Sequence[str] = (),
    since: float | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Per-arm impressions, clicks, CTR with its interval, and lift and p-value vs `control`.

    `arms` lists arms to report even if they logged nothing (the experiment's configured arms).
    `control` defaults to the arm named "control", else the first arm by name. Impressions do
    not name their experiment, so pass the experiment's start as `since` to leave out earlier
    ones. One pass over `impressions`: a store's iterator is read without holding the log.
    """
    tallies: dict[str, _Tally] = {name: _Tally() for name in arms}
    for impression in impressions:
        if since is not None and impression.at < since:
            continue
        tally = tallies.setdefault(impression.arm, _Tally())
        tally.impressions += 1
        tally.clicks += bool(impression.clicks)
        tally.model_versions.add(impression.model_version)
    if control is None and tallies:
        control = CONTROL_NAME if CONTROL_NAME in tallies else min(tallies)
    if control is not None and control not in tallies:
        tallies[control] = _Tally()
    others = sorted(name for name in tallies if name != control)
    order = ([control] if control is not None else []) + others
    alpha = 1.0 - confidence
    base = tallies.get(control) if control is not None else None
    rows = [_arm_row(name, tallies[name], base, alpha, name == control) for name in order]
    return {
        "confidence": confidence,
        "control": control,
        "total_impressions": sum(t.impressions for t in tallies.values()),
        "arms": rows,
    }


def _arm_row(
    name: str, tally: _Tally, control: _Tally | None, alpha: float, is_control: bool
) -> dict[str, Any]:
    n, k = tally.impressions, tally.clicks
    row: dict[str, Any] = {
        "arm": name,
        "model_versions": sorted(tally.model_versions),
        "impressions": n,
        "clicks": k,
        "ctr": k / n if n else None,
        "ci_low": None,
        "ci_high": None,
        "lift": None,
        "z": None,
        "p_value": None,
    }
    if n:
        low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
        row["ci_low"], row["ci_high"] = float(low), float(high)
    if is_control or control is None or not (n and control.impressions):
        return row
    control_ctr = control.clicks / control.impressions
    if control_ctr > 0:
        row["lift"] = row["ctr"] / control_ctr - 1.0
    pooled = (k + control.clicks) / (n + control.impressions)
    if 0.0 < pooled < 1.0:  # otherwise both arms are all-or-nothing and z is 0/0
        z, p_value = proportions_ztest([k, control.clicks], [n, control.impressions])
        row["z"], row["p_value"] = float(z), float(p_value)
    return row


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2%}" if signed else f"{value:.2%}"


def render_ab_table(report: dict[str, Any]) -> Table:
    """The report as a rich table, control first."""
    level = f"{report['confidence']:.0%}"
    table = Table(
        title=f"A/B report: CTR by arm ({level} Wilson interval; z-test vs {report['control']})"
    )
    for column in ("arm", "model versions", "impressions", "clicked", "CTR", f"{level} CI"):
        table.add_column(column, justify="left" if column in ("arm", "model versions") else "right")
    table.add_column("lift vs control", justify="right")
    table.add_column("p-value", justify="right")
    for row in report["arms"]:
        ci = "-" if row["ci_low"] is None else f"{_pct(row['ci_low'])} - {_pct(row['ci_high'])}"
        is_control = row["arm"] == report["control"]
        table.add_row(
            row["arm"] + (" (control)" if is_control else ""),
            ", ".join(row["model_versions"]) or "-",
            f"{row['impressions']:,}",
            f"{row['clicks']:,}",
            _pct(row["ctr"]),
            ci,
            "" if is_control else _pct(row["lift"], signed=True),
            "" if is_control or row["p_value"] is None else f"{row['p_value']:.4g}",
        )
    return table


def run_ab_report(
    store_url: str,
    out_json: str | Path | None = None,
    console: Console | None = None,
    *,
    control: str | None = None,
    arms: Sequence[str] = (),
    since: float | None = None,
) -> dict[str, Any]:
    """Read the store's impressions (see `ab_report`), print the table, maybe write JSON."""
    console = console or Console()
    with open_store(store_url) as store:
        report = ab_report(store.impressions(), control=control, arms=arms, since=since)
    if report["arms"]:
        console.print(render_ab_table(report))
    else:
        console.print(f"[yellow]No impressions logged in {store_url}: nothing to compare yet.[/]")
    if out_json is not None:
        Path(out_json).write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"Wrote {out_json}")
    return report
