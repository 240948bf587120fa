"""The index benchmark times every layout side by side and reports what each holds."""

from __future__ import annotations

import json

from benchmarks import index


def test_every_layout_is_timed_and_the_sparse_one_holds_less(tmp_path):
    out = tmp_path / "index.json"
    index.main(["--items", "2000", "--requests", "8", "--out", str(out)])
    rows = json.loads(out.read_text())
    assert [r["layout"] for r in rows] == [
        "numpy dense top-k (floor)", "TF dense index (MatMul + TopKV2)",
        "rtrec CatalogIndex (dense + sparse)",
    ]  # fmt: skip
    assert all(r["p50_ms"] > 0 and r["items"] == 2000 for r in rows)
    dense, split = rows[1]["bytes_per_item"], rows[2]["bytes_per_item"]
    assert dense == 679 * 4 and split < dense / 4  # 64 floats + 8 non-zeros (16 + 4 bytes each)


def test_served_vectors_have_the_served_layout():
    vectors = index.served_vectors(50)
    tower = vectors[:, : index.DENSE]
    assert abs(float((tower**2).sum(1).mean()) - 1.0) < 1e-5
    categories = vectors[:, index.DENSE : index.DENSE + index.CATEGORIES]
    words = vectors[:, index.DENSE + index.CATEGORIES :]
    assert (categories.sum(1) == 1).all() and (words.sum(1) == index.WORDS_PER_ITEM).all()
