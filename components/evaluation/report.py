"""`rtrec report`: a self-contained HTML page of the last evaluation (tables and embedded plots).

Plots are matplotlib PNGs inlined as base64 so the file can be mailed or attached to a ticket;
the page is a Jinja2 template, nothing is fetched when it is opened.
"""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from components.evaluation.results import OVERALL, GateResult  # noqa: E402

TABLE_METRICS = ("recall@10", "precision@10", "F1@10", "NDCG@10", "recall@50", "NDCG@50", "MRR")

_TEMPLATE = jinja2.Template(
    """<!doctype html>
<html><head><meta charset="utf-8"><title>rtrec evaluation</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 10px;
text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}
.ok{color:#0a7d2c}.bad{color:#b00020;font-weight:bold}img{max-width:100%}
</style></head><body>
<h1>rtrec evaluation: <span class="{{ 'ok' if gate.blessed else 'bad' }}">
{{ 'BLESSED' if gate.blessed else 'NOT BLESSED' }}</span></h1>
<p>Generated {{ generated }}. Evaluation: <code>{{ evaluation_uri }}</code>.
{% if pushed_to %}Pushed to <code>{{ pushed_to }}</code>.{% else %}Nothing pushed.{% endif %}
{% if not gate.has_baseline %}No earlier blessed model: change thresholds were skipped.{% endif %}
</p>
{% if gate.failures %}<h2>Failed thresholds</h2><ul>
{% for f in gate.failures %}<li class="bad">{{ f }}</li>{% endfor %}</ul>{% endif %}
<h2>Overall metrics</h2>
<table><tr><th>metric</th><th>candidate</th><th>baseline (last blessed)</th><th>change</th>
<th>threshold</th></tr>
{% for row in rows %}<tr><td>{{ row.name }}</td><td>{{ row.candidate }}</td>
<td>{{ row.baseline }}</td><td>{{ row.change }}</td><td>{{ row.threshold }}</td></tr>{% endfor %}
</table>
<h2>Slices</h2>
<table><tr><th>slice</th><th>examples</th>{% for m in slice_metrics %}<th>{{ m }}</th>
{% endfor %}</tr>
{% for s in slices %}<tr><td>{{ s.name }}</td><td>{{ s.count }}</td>
{% for v in s.cells %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>
<h2>Data checks</h2>
{% for title, by_split in checks %}{% for split, found in by_split.items() %}
<p>{{ title }} ({{ split }}): {% if found %}<span class="bad">{{ found|length }}</span></p>
<ul>{% for line in found %}<li>{{ line }}</li>{% endfor %}</ul>{% else %}none</p>{% endif %}
{% else %}<p>{{ title }}: not checked</p>{% endfor %}{% endfor %}
<h2>recall@10 by slice</h2><img alt="recall@10 by slice" src="data:image/png;base64,{{ bars }}">
<h2>recall@K, K = 1..100</h2><img alt="recall curve" src="data:image/png;base64,{{ curve }}">
</body></html>"""
)


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _curve(gate: GateResult) -> str:
    figure, axis = plt.subplots(figsize=(7, 3.5))
    for model, values in gate.metrics.get(OVERALL, {}).items():
        points = sorted(
            (int(k.split("@")[1]), v) for k, v in values.items() if k.startswith("curve_recall@")
        )
        if points:
            axis.plot([k for k, _ in points], [v for _, v in points], label=model)
    axis.set_xlabel("K")
    axis.set_ylabel("recall@K")
    axis.grid(alpha=0.3)
    axis.legend()
    return _png(figure)


def _bars(gate: GateResult, names: list[str]) -> str:
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(names) + 1))
    values = [gate.metrics[n].get("candidate", {}).get("recall@10", 0.0) for n in names]
    axis.barh(names, values, color="#3b7dd8")
    axis.invert_yaxis()
    axis.set_xlabel("recall@10 (candidate)")
    axis.grid(axis="x", alpha=0.3)
    return _png(figure)


def render_report(
    gate: GateResult,
    evaluation_uri: str,
    pushed_to: str | None,
    thresholds: dict[str, str],
    checks: dict[str, dict[str, list[str]]] | None = None,
) -> str:
    """The HTML page; ``thresholds`` maps metric name -> human-readable bound; ``checks`` maps
    a data check (schema anomalies, drift, serving skew) to its findings by split."""
    overall = gate.metrics.get(OVERALL, {})
    candidate, baseline = overall.get("candidate", {}), overall.get("baseline", {})
    rows = []
    for name in TABLE_METRICS:
        c, b = candidate.get(name), baseline.get(name)
        change = f"{(c - b) / b:+.1%}" if c is not None and b else ""
        rows.append(
            {
                "name": name,
                "candidate": _fmt(c),
                "baseline": _fmt(b),
                "change": change,
                "threshold": thresholds.get(name, ""),
            }
        )
    names = sorted(gate.metrics, key=lambda n: (n != OVERALL, n))
    slice_metrics = ["recall@10", "F1@10", "NDCG@10", "MRR"]
    slices = [
        {
            "name": n,
            "count": int(gate.metrics[n].get("candidate", {}).get("example_count", 0)),
            "cells": [_fmt(gate.metrics[n].get("candidate", {}).get(m)) for m in slice_metrics],
        }
        for n in names
    ]
    return _TEMPLATE.render(
        gate=gate,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        evaluation_uri=evaluation_uri,
        pushed_to=pushed_to,
        rows=rows,
        slices=slices,
        slice_metrics=slice_metrics,
        bars=_bars(gate, names),
        curve=_curve(gate),
        checks=list((checks or {}).items()),
    )


def thresholds_text(min_values: dict, min_cold: dict, regression: float, metrics: list) -> dict:
    """Human-readable bounds per metric name, for the report's table."""
    text = {}
    for name in set(min_values) | set(metrics) | set(min_cold):
        parts = []
        if name in min_values:
            parts.append(f">= {min_values[name]:.4f}")
        if name in min_cold:
            parts.append(f"cold >= {min_cold[name]:.4f}")
        if name in metrics:
            parts.append(f"drop <= {regression:.0%}")
        text[name] = "; ".join(parts)
    return text


def write_tensorboard(gate: GateResult, log_dir: str) -> str:
    """Candidate metrics (overall, per slice, recall curve) as TensorBoard scalars."""
    import os

    import tensorflow as tf

    folder = os.path.join(log_dir, "evaluator")
    writer = tf.summary.create_file_writer(folder)
    with writer.as_default():
        for slice_name, models in gate.metrics.items():
            for name, value in models.get("candidate", {}).items():
                if not name.startswith("curve_"):
                    tf.summary.scalar(f"{slice_name}/{name}", value, step=0)
        for name, value in gate.metrics.get(OVERALL, {}).get("candidate", {}).items():
            if name.startswith("curve_recall@"):
                tf.summary.scalar("recall_curve", value, step=int(name.split("@")[1]))
    writer.flush()
    return folder
