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


def test_a_real_export_s_floor_is_its_own_index_and_ranks_like_recommend(exported):
    import numpy as np
    import tensorflow as tf

    model, loaded, _ = exported
    twin = serving_model.export_twin(loaded)
    served = loaded.signatures["item_vectors"](item_ids=tf.constant(twin["ids"]))
    np.testing.assert_allclose(twin["vectors"], served["item_vectors"].numpy(), atol=1e-6)
    [request] = serving_model.export_requests(twin["ids"], 1, k=5)
    tensors = {k: tf.constant(v) for k, v in request.items()}
    answer = loaded.signatures["recommend"](**tensors)
    del tensors["k"], tensors["exclude_item_ids"]
    users = loaded.signatures["user_vectors"](**tensors, query=tf.constant([""]))
    seen = set(request["history_item_ids"][0][-model.hp.history_length :])  # what it reads
    ids, _ = serving_model.numpy_top_k(twin, users["user_vectors"].numpy(), len(twin["ids"]) - 1)
    unseen = [i for i in ids[0] if i not in seen][:5]  # recommend leaves the history out
    assert [x.decode() for x in answer["item_ids"].numpy()[0]] == unseen


@pytest.mark.slow
def test_a_real_export_is_measured_with_its_floor_and_its_user_tower(exported, tmp_path):
    out = tmp_path / "serving.json"
    _, _, path = exported
    serving.main(["--saved-model", path, "--requests", "8", "--clients", "2", "--repeats", "1",
                  "--out", str(out)])  # fmt: skip
    rows = json.loads(out.read_text())["rows"]
    assert {r["path"] for r in rows} == {
        "numpy top-k over the export's index (floor)", "user_vectors in process (user tower)",
        "SavedModel in process", "REST rtrec serve-model", "REST, --enable_batching",
    }  # fmt: skip
    assert all(r["failures"] == 0 and r["p50_ms"] > 0 for r in rows)
