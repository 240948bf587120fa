"""A/B arms (sticky, proportional, salted) and the report's numbers against hand-computed ones."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from scipy import stats

from serving.gateway.ab import ArmConfig, ExperimentConfig, ExperimentConfigError, bucket
from serving.gateway.ab_report import ab_report, render_ab_table, run_ab_report
from serving.gateway.store import Impression, open_store

REPO = Path(__file__).resolve().parents[3]
USERS = [hashlib.sha256(f"user{i}".encode()).hexdigest()[:24] for i in range(20_000)]


def canary_experiment(salt: str = "exp-2024-07") -> ExperimentConfig:
    return ExperimentConfig(
        name="ranker-v2",
        arms=(ArmConfig("control", "stable", 0.9), ArmConfig("canary", "canary", 0.1)),
        salt=salt,
    )


def test_bucket_is_sha256_of_salt_and_key() -> None:
    digest = hashlib.sha256(b"s\x00" + USERS[0].encode()).digest()
    assert bucket("s", USERS[0]) == (int.from_bytes(digest[:8], "big") >> 11) / 2.0**53
    assert all(0.0 <= bucket("s", key) < 1.0 for key in USERS[:1000])


def test_assignment_is_the_same_in_another_process() -> None:
    """No `hash()`: a fresh interpreter with another hash seed assigns every user alike."""
    keys = USERS[:300]
    here = [canary_experiment().assign(key).name for key in keys]
    code = (
        "import json, sys; from serving.gateway.ab import ArmConfig, ExperimentConfig\n"
        "e = ExperimentConfig('ranker-v2', (ArmConfig('control', 'stable', 0.9), "
        "ArmConfig('canary', 'canary', 0.1)), 'exp-2024-07')\n"
        "print(json.dumps([e.assign(k).name for k in json.loads(sys.stdin.read())]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    there = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(keys), capture_output=True, text=True,
        cwd=REPO, env=env, check=True,
    )  # fmt: skip
    assert json.loads(there.stdout) == here
    # Pinned so a change to the hashing (which would move live users between arms) is noticed.
    canaries = [n for n, key in enumerate(USERS[:130]) if label_of(key) == "canary"]
    assert canaries == [43, 44, 49, 60, 67, 73, 92, 110, 114, 124]


def label_of(key: str) -> str:
    return canary_experiment().assign(key).label


def test_shares_are_met_on_20k_users() -> None:
    experiment = canary_experiment()
    canary = sum(experiment.assign(key).name == "canary" for key in USERS)
    assert abs(canary - 2000) < 4 * math.sqrt(20_000 * 0.1 * 0.9)  # 4 sigma: about 170
    three = ExperimentConfig(
        "three", (ArmConfig("a", "1", 0.5), ArmConfig("b", "2", 0.3), ArmConfig("c", "3", 0.2)), "x"
    )
    counts = [sum(three.assign(key).name == arm for key in USERS) for arm in "abc"]
    assert stats.chisquare(counts, [10_000, 6_000, 4_000]).pvalue > 1e-3


def test_a_new_salt_reshuffles_users() -> None:
    before = [canary_experiment("salt-1").assign(key).name for key in USERS]
    after = [canary_experiment("salt-2").assign(key).name for key in USERS]
    moved = sum(a != b for a, b in zip(before, after)) / len(USERS)
    assert abs(moved - 2 * 0.9 * 0.1) < 0.015  # independent assignments: 18% change arm
    assert before == [canary_experiment("salt-1").assign(key).name for key in USERS]


def test_an_arm_with_no_share_gets_nobody() -> None:
    experiment = ExperimentConfig(
        "off", (ArmConfig("control", "stable", 1.0), ArmConfig("canary", "canary", 0.0)), "s"
    )
    assert {experiment.assign(key).name for key in USERS[:5000]} == {"control"}
    assert experiment.control == "control"


@pytest.mark.parametrize(
    ("arms", "salt", "control", "message"),
    [
        ((ArmConfig("a", "1", 0.5), ArmConfig("b", "2", 0.4)), "s", None, "sum to 0.9"),
        ((ArmConfig("a", "1", 0.5), ArmConfig("a", "2", 0.5)), "s", None, "names must be unique"),
        ((ArmConfig("a", "1", 0.5), ArmConfig("b", "1", 0.5)), "s", None, "labels must be unique"),
        ((ArmConfig("a", "1", 1.5), ArmConfig("b", "2", -0.5)), "s", None, r"outside \[0, 1\]"),
        ((ArmConfig("a", "1", 1.0),), "", None, "empty salt"),
        ((), "s", None, "no arms"),
        ((ArmConfig("a", "1", 1.0),), "s", "b", "control 'b' is not one of its arms"),
    ],
)
def test_invalid_experiments_are_refused(arms, salt, control, message) -> None:
    with pytest.raises(ExperimentConfigError, match=message):
        ExperimentConfig("exp", arms, salt, control)


def test_shares_may_miss_one_by_rounding_only() -> None:
    thirds = tuple(ArmConfig(str(i), str(i), 1 / 3) for i in range(3))
    assert ExperimentConfig("thirds", thirds, "s").control == "0"
    loaded = ExperimentConfig.from_dict(
        {"name": "e", "salt": "s", "arms": [{"name": "c", "label": "stable", "share": 1}]}
    )
    assert loaded.arms == (ArmConfig("c", "stable", 1),)


def impressions(arm: str, shown: int, clicked: int, version: str = "1") -> list[Impression]:
    """`shown` impressions of two items; the first `clicked` got clicks (half of them on both)."""

    def clicks(n: int) -> dict[str, float]:
        if n < clicked // 2:
            return {"i1": 2000.0, "i2": 2001.0}
        return {"i2": 2000.0} if n < clicked else {}

    return [
        Impression(f"{arm}-{n}", "a1" * 12, arm, version, ("i1", "i2"), 1000.0 + n, clicks(n))
        for n in range(shown)
    ]


def wilson(k: int, n: int, z: float = stats.norm.ppf(0.975)) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_report_matches_hand_computed_statistics() -> None:
    log = impressions("control", 1000, 100, "stable:3") + impressions("canary", 1000, 150, "c:4")
    report = ab_report(log)
    control, canary = report["arms"]
    assert report["control"] == "control" and report["total_impressions"] == 2000
    assert (control["arm"], control["impressions"], control["clicks"]) == ("control", 1000, 100)
    assert (canary["arm"], canary["impressions"], canary["clicks"]) == ("canary", 1000, 150)
    assert control["ctr"] == 0.1 and canary["ctr"] == 0.15
    assert control["model_versions"] == ["stable:3"] and canary["model_versions"] == ["c:4"]
    for row in (control, canary):
        low, high = wilson(row["clicks"], row["impressions"])
        assert row["ci_low"] == pytest.approx(low, abs=1e-12)
        assert row["ci_high"] == pytest.approx(high, abs=1e-12)
    assert control["ci_low"] == pytest.approx(0.082909, abs=1e-6)
    assert control["ci_high"] == pytest.approx(0.120152, abs=1e-6)
    pooled = 250 / 2000
    z = (0.15 - 0.10) / math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000))
    assert canary["z"] == pytest.approx(z, rel=1e-12)
    assert canary["p_value"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)
    assert canary["p_value"] == pytest.approx(0.000723, abs=1e-6)
    assert canary["lift"] == pytest.approx(0.5)
    assert control["lift"] is None and control["p_value"] is None
    json.dumps(report, allow_nan=False)


def test_arms_without_impressions_or_variance_report_none() -> None:
    log = impressions("control", 50, 0) + impressions("canary", 40, 0)
    report = ab_report(log, arms=["control", "canary", "ghost"])
    rows = {row["arm"]: row for row in report["arms"]}
    assert [row["arm"] for row in report["arms"]] == ["control", "canary", "ghost"]
    assert rows["canary"]["ctr"] == 0.0 and rows["canary"]["ci_low"] == pytest.approx(0.0)
    assert rows["canary"]["lift"] is None and rows["canary"]["p_value"] is None  # 0/0
    ghost = rows["ghost"]
    assert (ghost["impressions"], ghost["clicks"], ghost["ctr"], ghost["ci_low"]) == (
        0,
        0,
        None,
        None,
    )
    assert ghost["p_value"] is None and ghost["model_versions"] == []
    json.dumps(report, allow_nan=False)
    empty = ab_report([])
    assert empty == {"confidence": 0.95, "control": None, "total_impressions": 0, "arms": []}
    no_control_traffic = ab_report(impressions("canary", 10, 5), control="control")
    assert [r["arm"] for r in no_control_traffic["arms"]] == ["control", "canary"]
    assert no_control_traffic["arms"][1]["p_value"] is None


def test_the_table_shows_every_arm() -> None:
    report = ab_report(impressions("control", 1000, 100) + impressions("canary", 1000, 150))
    console = Console(record=True, width=160)
    console.print(render_ab_table(report))
    text = console.export_text()
    assert "control (control)" in text and "10.00%" in text and "15.00%" in text
    assert "+50.00%" in text and "0.0007232" in text and "8.29% - 12.02%" in text


def test_run_ab_report_reads_the_store_and_writes_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    console = Console(record=True, width=160)
    assert run_ab_report(url, console=console)["arms"] == []
    assert "No impressions logged" in console.export_text()
    with open_store(url) as store:
        for n in range(6):
            arm = "control" if n % 2 else "canary"
            store.log_impression(f"r{n}", "a1" * 12, arm, arm, ["i1", "i2"], at=100.0 + n)
        store.record_click("r1", "i1", at=200.0)
        store.record_click("r1", "i2", at=201.0)
        store.record_click("r2", "i2", at=202.0)
    out = tmp_path / "ab.json"
    report = run_ab_report(url, out_json=out, console=console)
    assert json.loads(out.read_text()) == report
    assert [(r["arm"], r["impressions"], r["clicks"]) for r in report["arms"]] == [
        ("control", 3, 1),
        ("canary", 3, 1),
    ]
    assert "canary" in console.export_text()
    later = run_ab_report(url, console=console, since=103.0, control="control")
    assert [(r["arm"], r["impressions"]) for r in later["arms"]] == [("control", 2), ("canary", 1)]
