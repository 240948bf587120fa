"""POST /v1/items: a new item is embedded by the model and recommendable and searchable at once."""

from __future__ import annotations

import json
import time

import numpy as np

from rtrec import contract as c
from tests.serving.gateway.test_events import ev
from tests.serving.gateway.test_recommendations import recommend
from tests.tiny_model import BRANDS, TYPES

LAMP = {"item_id": "lamp-new", "title": "acme lamp model 10", "category": "Home|lamp"}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_a_new_item_is_recommendable_and_searchable_at_once(make_gateway, store_url, tmp_path):
    client, gw = make_gateway(store_url)
    now = time.time()
    lamps = [ev("ivy", f"lamp-{j}", now - 100 + j) for j in range(4)]
    client.post("/v1/events", json={"events": lamps})
    before = [i["item_id"] for i in recommend(client, "ivy", k=10)["items"]]
    added = client.post("/v1/items", json={"items": [LAMP]})
    assert added.status_code == 200, added.text
    assert added.json() == {"accepted": 1, "rejected": [], "model_versions": [1, 2]}
    after = recommend(client, "ivy", k=10)["items"]
    new = [i for i in after if i["item_id"] == "lamp-new"]
    assert "lamp-new" not in before and new and new[0]["reason"] == "new item"
    assert new[0]["because_item_id"].startswith("lamp-")
    others = [i for i in after if i["item_id"].startswith(("tent", "novel"))]
    assert all(new[0]["score"] > i["score"] for i in others)
    found = client.get("/v1/search", params={"q": "acme lamp", "user_id": "ivy", "k": 10}).json()
    assert "lamp-new" in [i["item_id"] for i in found["items"]]
    event = client.post("/v1/events", json={"events": [ev("ivy", "lamp-new", now, "click")]})
    assert event.json()["accepted"] == 1  # a known item from now on
    [row] = [json.loads(line) for p in (tmp_path / "log" / "items").rglob("*.jsonl")
             for line in p.read_text().splitlines()]  # fmt: skip
    assert row["item_id"] == "lamp-new" and row["category"] == "Home|lamp"
    stored = gw.store.item("lamp-new")
    assert stored.text == c.item_text("acme lamp model 10", ("Home", "lamp"))
    assert len(stored.vector) == len(gw.models.item_info(1, ["lamp-1"])["lamp-1"].vector)


def test_the_pipelines_text_embeds_a_catalog_item_as_its_catalog_vector(make_gateway, store_url):
    """embed_items on the catalog's own id, text and category cell gives the served vector back
    (cosine 1): the gateway's scores of added items compare exactly with the catalog's. Under a
    new id (no trained id embedding) the same text still lands close."""
    _, gw = make_gateway(store_url)
    catalog = gw.models.item_info(1, ["lamp-0", "tent-3"])
    for item, t, j in (("lamp-0", 0, 0), ("tent-3", 2, 3)):
        text = f"{BRANDS[j % len(BRANDS)]} {TYPES[t]} model {j}"  # the tiny catalog's text
        cell = "|".join((["Home", "Home", "Leisure", "Leisure"][t], TYPES[t]))
        same = gw.models.embed(1, [(item, text, cell)])[item]
        assert cosine(same, catalog[item].vector) > 0.9999
        other = gw.models.embed(1, [(item + "-new", text, cell)])[item + "-new"]
        assert cosine(other, catalog[item].vector) > 0.8


def test_bad_items_are_rejected_by_row_and_batches_bounded(make_gateway, store_url, tmp_path):
    client, gw = make_gateway(store_url, max_batch_items=3)
    answer = client.post("/v1/items", json={"items": [
        {"item_id": "x1", "title": "   "}, {"item_id": "lamp-1", "title": "a lamp"},
        {"item_id": "x2", "title": "a kettle"}]}).json()  # fmt: skip
    assert answer["accepted"] == 1
    assert [(r["index"], r["reason"]) for r in answer["rejected"]] == [
        (0, "empty_title"), (1, "catalog_item")
    ]  # fmt: skip
    assert [i.item_id for i in gw.store.items()] == ["x2"]
    many = {"items": [{"item_id": f"y{n}", "title": "t"} for n in range(4)]}
    assert client.post("/v1/items", json=many).status_code == 422
    assert client.post("/v1/items", json={"items": [{"title": "no id"}]}).status_code == 422
    assert [i.item_id for i in gw.store.items()] == ["x2"]
