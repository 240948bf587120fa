"""The benchmark adapter builds case histories with the training rules."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rtrec import features as fk
from rtrec.evaluation.protocols import EvalCase
from trainer.offline import case_features


def test_case_histories_collapse_funnels_and_pad_like_training():
    case = EvalCase(
        user=7,
        history=np.array([0, 0, 0, 1, 2]),
        history_event_types=np.array(["view", "click", "purchase", "view", "view"]),
        history_timestamps=np.array([0, 10, 20, 30, 4000]),
        targets=np.array([3]),
        cold_targets=np.array([], dtype=np.int64),
    )
    out = case_features([case], ["a", "b", "c", "d"], 4)
    # The a-funnel is one 'purchase' interaction; the 4000 s gap opens a new session.
    assert out[fk.HISTORY_ITEM_IDS].tolist() == [["", "a", "b", "c"]]
    assert out[fk.HISTORY_EVENT_TYPES].tolist() == [["", "purchase", "view", "view"]]
    assert out[fk.HISTORY_AGES_S].tolist() == [[-1.0, 4000.0, 3970.0, 0.0]]
    assert out[fk.USER_KEY].tolist() == ["7"]
    # A request time (temporal: the cut) moves "now": every age grows by the idle time.
    later = case_features([replace(case, request_time=4600.0)], ["a", "b", "c", "d"], 4)
    assert later[fk.HISTORY_AGES_S].tolist() == [[-1.0, 4600.0, 4570.0, 600.0]]
    empty = EvalCase(7, np.array([], np.int64), np.array([]), np.array([]), case.targets,
                     case.cold_targets)  # fmt: skip
    assert case_features([empty], ["a"], 2)[fk.HISTORY_ITEM_IDS].tolist() == [["", ""]]


def test_rtrec_runs_in_the_quality_benchmark(tmp_path):
    import json

    from benchmarks.quality import run_quality
    from rtrec.data.world import generate_world, write_world

    paths = write_world(generate_world("tiny", 0), str(tmp_path), "csv")
    out = tmp_path / "q.json"
    run_quality(
        paths["events"],
        paths["items"],
        str(out),
        protocols=["leave_last_out"],
        models=["popularity", "rtrec"],
        encoder="tiny-bert",
        rtrec_settings={"epochs": 1, "embedding_dim": 16},
    )
    results = json.loads(out.read_text())["leave_last_out"]
    assert results["rtrec"]["all"]["users"] == results["popularity"]["all"]["users"] > 0
    assert 0.0 <= results["rtrec"]["all"]["NDCG@10"] <= 1.0


def test_catalog_categories_are_split_as_ingestion_splits_them():
    import pandas as pd

    from trainer.offline import item_categories

    catalog = pd.DataFrame({"category": ["Home|Lamps", "", " Outdoor | Tents |", "A||B"]})
    assert item_categories(catalog) == [("Home", "Lamps"), (), ("Outdoor", "Tents"), ("A", "B")]
