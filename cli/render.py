"""Rich tables for people: the ingestion summary and schema anomalies of a run."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.run_summary import RunSummary


def _counts_table(title: str, part: dict) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("rows")
    table.add_column("count", justify="right")
    table.add_row("in", f"{part['rows_in']:,}")
    table.add_row("accepted", f"{part['accepted']:,}")
    for reason, n in part["rejected"].items():
        table.add_row(f"rejected: {reason}", f"{n:,}")
    table.add_row("duplicates removed", f"{part['duplicates_removed']:,}")
    if "bot_filtered" in part:
        table.add_row(f"bot-filtered ({part['bot_users']} users)", f"{part['bot_filtered']:,}")
    return table


def render_summary(console: Console, summary: RunSummary, took: float | None = None) -> None:
    """Print row counts, rejections by reason, outputs, reconciliation and anomalies."""
    report = summary.report
    if report is None:
        console.print("[yellow]No ingestion report found in this run's metadata.[/]")
        return
    events = report["events"]
    console.print(_counts_table("Events", events))
    console.print(_counts_table("Items", report["items"]))
    out = report["output"]
    console.print(
        f"Output: {out['users']:,} users, {out['sessions']:,} sessions, "
        f"{out['interactions']:,} interactions -> {out['train_examples']:,} train / "
        f"{out['eval_examples']:,} eval examples ({out['eval_cold_targets']:,} eval targets "
        f"unseen in training); eval cutoff {report.get('eval_cutoff_iso')}"
    )
    ok = all(report["reconciled"].values())
    console.print(
        ("[green]Reconciled[/]" if ok else "[red]NOT reconciled[/]")
        + f": {events['rows_in']:,} in = {events['accepted']:,} accepted + "
        f"{events['rejected_total']:,} rejected + {events['duplicates_removed']:,} duplicates + "
        f"{events['bot_filtered']:,} bot events"
    )
    if took:
        console.print(
            f"Pipeline time {took:.0f}s ({events['rows_in'] / took:,.0f} input events/s end to end)"
        )
    for title, anomalies in (("Schema anomalies", summary.anomalies),
                             ("Drift against the previous run", summary.drift),
                             ("Training/serving skew", summary.skew)):  # fmt: skip
        for split, found in anomalies.items():
            if found:
                console.print(f"[yellow]{title} in {split}:[/]")
                for line in found:
                    console.print(f"  {line}")
            else:
                console.print(f"{title} in {split}: none")
    dead = summary.artifacts.get("rtrec.DeadLetter", summary.report_uri)
    console.print(f"Dead letters: {escape(str(dead))}", soft_wrap=True)
    render_gate(console, summary)


def render_gate(console: Console, summary: RunSummary) -> None:
    """Blessed or not, with each failed threshold, and where the model was pushed."""
    gate = summary.gate
    if gate is None:
        return
    overall = gate.metrics.get("overall", {}).get("candidate", {})
    shown = ", ".join(
        f"{name} {overall[name]:.4f}" for name in ("recall@10", "F1@10", "NDCG@10", "MRR")
        if name in overall
    )  # fmt: skip
    if gate.blessed:
        console.print(f"[green]BLESSED[/]: {shown}")
    else:
        console.print(f"[red]NOT BLESSED[/]: {shown}")
        for failure in gate.failures:
            console.print(f"  failed: {failure}")
    if summary.pushed_to:
        console.print(f"Pushed to {escape(summary.pushed_to)}", soft_wrap=True)
    else:
        console.print("Nothing pushed: the serving directory keeps its current model.")


def render_locations(console: Console, summary: RunSummary, report_path: str | None) -> None:
    """Where the run's report, model and TensorBoard logs are (after a run)."""
    rows = [("Report", report_path or "none: the run stopped before the evaluator")]
    if summary.pushed_to:
        rows.append(
            ("Serving model", f"{summary.pushed_to} (TF Serving's base path is its parent)")
        )
    elif summary.artifacts.get("Model"):
        rows.append(("Model (not pushed)", summary.artifacts["Model"]))
    if summary.artifacts.get("ModelRun"):
        rows.append(("TensorBoard", f"rtrec tensorboard (logs in {summary.artifacts['ModelRun']})"))
    rows.append(
        ("Look again", "rtrec inspect · rtrec report · rtrec tensorboard (no flags needed)")
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        console.print(f"[bold]{name:<{width}}[/]  {escape(value)}", soft_wrap=True)
