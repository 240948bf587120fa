"""GET /v1/users/{id}/recommendations and /v1/search: fresh, explained, A/B-routed, logged."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rtrec import features as fk
from rtrec.timeline import pseudonymize
from serving.gateway.ab_report import ab_report
from serving.gateway.ranking import mmr
from tests.serving.gateway.test_events import KEY, ev
from tests.tiny_model import item_id


def recommend(client, user: str, **params) -> dict:
    answer = client.get(f"/v1/users/{user}/recommendations", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def types(items: list[dict]) -> list[str]:
    return [i["item_id"].split("-")[0] for i in items]


def test_a_click_changes_the_next_response(api) -> None:
    now = time.time()
    history = [ev("ann", item_id(0, j), now - 300 + j) for j in range(3)]  # lamps
    assert api.post("/v1/events", json={"events": history}).json()["accepted"] == 3
    before = recommend(api, "ann", k=5)
    assert types(before["items"]).count("lamp") >= 3
    clicks = [ev("ann", item_id(2, j), now - 100 + j, "click") for j in range(4)]  # tents
    api.post("/v1/events", json={"events": clicks})
    after = recommend(api, "ann", k=5)
    assert after["items"] != before["items"]
    assert types(after["items"]).count("tent") > types(before["items"]).count("tent")
    tents = [i for i in after["items"] if i["item_id"].startswith("tent")]
    assert any(i["reason"].startswith("because you clicked tent-") for i in tents)


def test_every_item_has_a_reason_and_unknown_users_get_the_cold_start_list(api) -> None:
    cold = recommend(api, "nobody-yet", k=8)
    assert cold["cold_start"] is True and len(cold["items"]) == 8
    assert {i["reason"] for i in cold["items"]} == {"popular"}
    assert cold["user_id"] == "nobody-yet" and cold["request_id"]
    api.post("/v1/events", json={"events": [ev("bea", "kettle-1", time.time() - 5)]})
    warm = recommend(api, "bea", k=8)
    assert warm["cold_start"] is False
    for item in warm["items"]:
        assert item["reason"] in ("popular", "because you viewed kettle-1")
        assert (item["because_item_id"] == "kettle-1") == item["reason"].startswith("because")
    assert "kettle-1" not in [i["item_id"] for i in warm["items"]]
    assert [i["score"] for i in warm["items"]] == sorted((i["score"] for i in warm["items"]),
                                                         reverse=True)  # fmt: skip


def test_exclude_seen_false_scores_the_history_back_in(api) -> None:
    now = time.time()
    api.post("/v1/events", json={"events": [ev("cy", item_id(1, j), now - 60 + j)
                                            for j in range(3)]})  # fmt: skip
    seen = {item_id(1, j) for j in range(3)}
    default = recommend(api, "cy", k=10)
    assert not seen & {i["item_id"] for i in default["items"]}
    everything = recommend(api, "cy", k=10, exclude_seen="false")
    assert seen & {i["item_id"] for i in everything["items"]}
    scores = [i["score"] for i in everything["items"]]
    assert scores == sorted(scores, reverse=True)


def test_diversity_spreads_the_list_over_item_types(api) -> None:
    now = time.time()
    api.post("/v1/events", json={"events": [ev("di", item_id(3, j), now - 60 + j)
                                            for j in range(4)]})  # fmt: skip
    plain = recommend(api, "di", k=6)
    mixed = recommend(api, "di", k=6, diversity=0.9)
    assert len(set(types(mixed["items"]))) > len(set(types(plain["items"])))


def test_mmr_keeps_the_order_at_zero_and_avoids_near_copies() -> None:
    scores = np.array([3.0, 2.9, 1.0])
    vectors = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0]])
    assert mmr(scores, vectors, 2, 0.0) == [0, 1]
    assert mmr(scores, vectors, 2, 0.7) == [0, 2]


@pytest.mark.parametrize("k", [0, 101, -1])
def test_k_out_of_range_is_a_422(api, k) -> None:
    answer = api.get("/v1/users/u1/recommendations", params={"k": k})
    assert answer.status_code == 422 and "k" in answer.text
    assert api.get("/v1/search", params={"q": "x", "k": k}).status_code == 422


def test_arms_are_sticky_and_report_the_exact_version(make_gateway, store_url) -> None:
    client, gw = make_gateway(store_url)
    seen = {}
    for n in range(24):
        first = recommend(client, f"user{n}", k=3)
        again = recommend(client, f"user{n}", k=3)
        assert (first["arm"], first["model_version"]) == (again["arm"], again["model_version"])
        arm = gw.settings.experiment.assign(pseudonymize(f"user{n}", KEY))
        assert first["arm"] == arm.name
        seen[first["arm"]] = first["model_version"]
    assert seen == {"control": 1, "canary": 2}  # labels stable -> 1, canary -> 2


def test_impressions_are_logged_and_clicks_with_request_ids_attributed(
    make_gateway, store_url
) -> None:
    client, gw = make_gateway(store_url)
    shown = recommend(client, "eve", k=4)
    impression = gw.store.impression(shown["request_id"])
    assert impression.user_key == pseudonymize("eve", KEY)
    assert impression.arm == shown["arm"] and impression.model_version == str(
        shown["model_version"]
    )
    assert list(impression.item_ids) == [i["item_id"] for i in shown["items"]]
    item = shown["items"][1]["item_id"]
    click = ev("eve", item, time.time(), "click", request_id=shown["request_id"])
    stray = ev("eve", item, time.time(), "purchase", request_id="not-a-request")
    answer = client.post("/v1/events", json={"events": [click, stray]}).json()
    assert answer["accepted"] == 2 and answer["attributed"] == 1
    assert set(gw.store.impression(shown["request_id"]).clicks) == {item}
    report = ab_report(gw.store.impressions())
    assert sum(r["clicks"] for r in report["arms"]) == 1


def test_search_is_personalized_and_logged(make_gateway, store_url) -> None:
    client, gw = make_gateway(store_url)
    answer = client.get("/v1/search", params={"q": "orbit tent model 3", "k": 5})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["query"] == "orbit tent model 3" and len(found["items"]) == 5
    assert {i["reason"] for i in found["items"]} == {"matches query"}
    assert gw.store.impression(found["request_id"]) is None  # anonymous: nobody to credit
    named = client.get("/v1/search", params={"q": "tent", "user_id": "fay", "k": 5}).json()
    assert gw.store.impression(named["request_id"]).user_key == pseudonymize("fay", KEY)
    assert client.get("/v1/search", params={"q": " "}).status_code == 422


def test_gateway_scores_equal_the_models_for_catalog_items(make_gateway, store_url) -> None:
    """dot(user_vectors, item_vectors) is recommend's score: what merging added items relies on."""
    client, gw = make_gateway(store_url)
    client.post("/v1/events", json={"events": [ev("gus", "lamp-3", time.time() - 9)]})
    answer = recommend(client, "gus", k=5)
    version = answer["model_version"]
    user = gw.recommender._request("gus")
    vector = gw.recommender._user_vector(user, "")
    info = gw.models.item_info(version, [i["item_id"] for i in answer["items"]])
    for item in answer["items"]:
        assert float(info[item["item_id"]].vector @ vector) == pytest.approx(item["score"],
                                                                             abs=1e-5)  # fmt: skip
    assert fk.USER_VECTORS in client.app.state.gateway.metrics.render()[0].decode()


def test_each_request_logs_the_model_inputs_the_skew_check_reads(make_gateway, tmp_path) -> None:
    from pipeline.skew import read_requests

    client, _ = make_gateway(f"sqlite:///{tmp_path / 'skew.db'}")
    now = time.time()
    client.post(
        "/v1/events", json={"events": [ev("bo", item_id(1, j), now - 9 + j) for j in (0, 1)]}
    )
    recommend(client, "bo", k=3)
    recommend(client, "nobody-yet", k=3)
    rows = read_requests(str(tmp_path / "log" / "requests"))
    assert [r[fk.HISTORY_ITEM_IDS] for r in rows] == [[item_id(1, 0), item_id(1, 1)], [fk.PAD_ITEM]]
    assert rows[0][fk.HISTORY_EVENT_TYPES] == ["view", "view"] and "user_key" not in rows[0]
    assert {r["arm"] for r in rows} <= {"control", "canary"} and rows[0][fk.NOW] >= int(now)
