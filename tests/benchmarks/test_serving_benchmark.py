"""The serving benchmark measures every path side by side, with zero failures, at tiny sizes."""

from __future__ import annotations

import json

import pytest

from benchmarks import serving, serving_model


@pytest.mark.slow
def test_every_path_is_measured_and_nothing_fails(tmp_path):
    out = tmp_path / "serving.json"
    serving.main(
        ["--items", "300", "--requests", "12", "--clients", "2", "--repeats", "1",
         "--out", str(out)]
    )  # fmt: skip
    result = json.loads(out.read_text())
    paths = {(r["path"], r["clients"]) for r in result["rows"]}
    assert paths == {
        (path, clients)
        for path in ("numpy brute-force (floor)", "SavedModel in process",
                     "REST rtrec serve-model", "REST, --enable_batching")
        for clients in (1, 2)
    }  # fmt: skip
    assert all(r["failures"] == 0 and r["p50_ms"] > 0 for r in result["rows"])
    [first] = result["first_request"]
    assert first["first_ms_with_warmup"] > 0 and first["first_ms_without_warmup"] > 0


def test_the_numpy_floor_ranks_like_the_saved_model(tmp_path):
    import tensorflow as tf

    twin = serving_model.build_model(str(tmp_path / "1"), 200)
    history = serving_model.histories(twin["ids"], 1)[0]
    row_of = {item: i for i, item in enumerate(twin["ids"].tolist())}
    ids, scores = serving_model.numpy_recommend(twin, row_of, history, 5)
    model = tf.saved_model.load(str(tmp_path / "1")).signatures["recommend"]
    answer = model(history_item_ids=tf.constant(history), k=tf.constant(5))
    assert [x.decode() for x in answer["item_ids"].numpy()[0]] == ids[0].tolist()
    assert abs(answer["scores"].numpy() - scores).max() < 1e-4
