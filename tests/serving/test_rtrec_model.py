"""The exported rtrec model behind `rtrec serve-model`, queried with the client: the REST answer
is the in-process answer, and malformed requests get a 400 that names the input."""

from __future__ import annotations

import os

import numpy as np
import pytest

from rtrec import features as fk
from serving.client import ModelClient, ModelServerError
from serving.model_server.server import ModelServer, ServerOptions
from tests.tiny_model import toy_examples
from trainer.ranking import rank_catalog

NOW = 1_750_000_000


@pytest.fixture(scope="module")
def client(exported):
    """One server for the module: loading the model (and its warm-up) is the slow part."""
    _, _, path = exported
    options = ServerOptions(
        model_name="rtrec", model_base_path=os.path.dirname(path), rest_api_port=0,
        rest_api_host="127.0.0.1",
    )  # fmt: skip
    with ModelServer(options).start() as server:
        with ModelClient(server.url, "rtrec", timeout=30.0, retries=0) as client:
            client.wait_until_available(timeout=60.0)
            yield client


def _request(arrays, n):
    ids = arrays[fk.HISTORY_ITEM_IDS][:n]
    ages = arrays[fk.HISTORY_AGES_S][:n]
    return {
        "history_item_ids": ids.tolist(),
        "history_event_types": arrays[fk.HISTORY_EVENT_TYPES][:n].tolist(),
        "history_timestamps": np.where(ids == "", 0, NOW - ages).astype(np.int64).tolist(),
        "user_key": [""] * n,
        "exclude_item_ids": [[""]] * n,
        "k": 10,
        "now": [NOW] * n,
    }


@pytest.mark.slow
def test_rest_recommend_is_the_in_process_ranking(exported, client):
    model, _, _ = exported
    arrays = toy_examples(6, seed=31)
    arrays[fk.USER_KEY] = np.array([""] * 6)
    served = client.predict(_request(arrays, 6), signature_name=fk.RECOMMEND)
    expected = [[model.catalog.ids[i] for i in row] for row in rank_catalog(model, arrays, 10)]
    assert [list(row) for row in served["item_ids"]] == expected
    assert np.asarray(served["scores"]).shape == (6, 10)
    metadata = client.metadata()["metadata"]["signature_def"]["signature_def"]
    assert {fk.RECOMMEND, fk.SEARCH, fk.USER_VECTORS, fk.EMBED_ITEMS, fk.SCORE} <= set(metadata)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"history_event_types": [["view"]]}, "history_event_types must have the shape"),
        ({"k": 500}, "k must be in [1, 100]"),
        ({"user_key": ["", ""]}, "user_key must have one row per"),
        ({"history_timestamps": [[NOW * 1000] * 5]}, "Unix seconds"),
        ({"exclude_item_ids": [["x"] * 101]}, "at most 100 exclude_item_ids"),
        ({"history_item_ids": ["a", "b", "c", "d", "e"]}, "history_item_ids"),
    ],
)
def test_malformed_rest_requests_get_a_400_naming_the_input(client, change, message):
    request = {**_request(toy_examples(1, seed=32), 1), **change}
    with pytest.raises(ModelServerError) as error:
        client.predict(request, signature_name=fk.RECOMMEND)
    assert error.value.status == 400 and message in error.value.message
