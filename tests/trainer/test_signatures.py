"""The exported SavedModel: every signature round-trips, bad input is handled, ops are servable."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from rtrec import features as fk
from serving.savedmodel_ops import saved_model_ops, unsupported_ops
from tests.tiny_model import LENGTH, toy_examples
from trainer.ranking import rank_catalog
from trainer.signatures import UNKNOWN_SCORE

NOW = 1_750_000_000


def _history(arrays, n):
    ids = arrays[fk.HISTORY_ITEM_IDS][:n]
    ages = arrays[fk.HISTORY_AGES_S][:n]
    timestamps = np.where(ids == "", 0, NOW - ages).astype(np.int64)
    return {
        "history_item_ids": tf.constant(ids),
        "history_event_types": tf.constant(arrays[fk.HISTORY_EVENT_TYPES][:n]),
        "history_timestamps": tf.constant(timestamps),
    }


def _recommend(loaded, history, k=10, user_key=None, exclude=None):
    n = int(history["history_item_ids"].shape[0])
    return loaded.signatures["recommend"](
        **history,
        user_key=tf.constant(user_key or [""] * n),
        exclude_item_ids=tf.constant(exclude or [[""]] * n),
        k=tf.constant(k),
        now=tf.constant([NOW] * n, tf.int64),
    )


def test_recommend_matches_the_in_process_model(exported):
    model, loaded, _ = exported
    arrays = toy_examples(20, seed=11)
    arrays[fk.USER_KEY] = np.array([""] * 20)
    served = _recommend(loaded, _history(arrays, 20))["item_ids"].numpy().astype(str)
    expected = rank_catalog(model, arrays, 10)
    assert [list(r) for r in served] == [[model.catalog.ids[i] for i in row] for row in expected]


def test_default_signature_and_exclusions(exported):
    _, loaded, _ = exported
    history = _history(toy_examples(3, seed=12), 3)
    default = loaded.signatures["serving_default"](**history)
    assert default["item_ids"].shape == (3, 10)
    first = _recommend(loaded, history)["item_ids"].numpy().astype(str)
    excluded = _recommend(loaded, history, exclude=[[first[i][0]] for i in range(3)])
    excluded = excluded["item_ids"].numpy().astype(str)
    assert all(first[i][0] not in excluded[i] for i in range(3))


def test_search_embed_and_score_round_trip(exported, encoder):
    model, loaded, _ = exported
    history = _history(toy_examples(2, seed=13), 2)
    found = loaded.signatures["search"](
        query=tf.constant(["tent model", ""]),
        **history,
        user_key=tf.constant(["", ""]),
        k=tf.constant(5),
        now=tf.constant([NOW, NOW], tf.int64),
    )
    assert found["item_ids"].shape == (2, 5)
    ids = model.catalog.ids[:3]
    embedded = loaded.signatures["embed_items"](
        item_ids=tf.constant(ids),
        texts=tf.constant(model.catalog.texts[:3]),
        categories=tf.constant(["|".join(names) for names in model.catalog.categories[:3]]),
    )["embeddings"].numpy()
    np.testing.assert_allclose(embedded, model.item_vectors(tf.constant(ids)).numpy(), atol=1e-4)
    arrays = toy_examples(2, seed=13)
    arrays[fk.USER_KEY] = np.array(["", ""])
    candidates = tf.constant([ids, ids[::-1]])
    scores = loaded.signatures["score"](
        **history, user_key=tf.constant(["", ""]), candidate_item_ids=candidates,
        now=tf.constant([NOW, NOW], tf.int64),
    )["scores"].numpy()  # fmt: skip
    users = model.user_vectors({k: tf.constant(v) for k, v in arrays.items()})
    expected = tf.einsum("bd,bmd->bm", users, model.item_vectors(candidates)).numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-4)
    served = loaded.signatures["user_vectors"](
        query=tf.constant(["", ""]), **history, user_key=tf.constant(["", ""]),
        now=tf.constant([NOW, NOW], tf.int64),
    )["user_vectors"].numpy()  # fmt: skip
    np.testing.assert_allclose(served, users.numpy(), atol=1e-5)
    # An id the catalog does not hold never outranks a real item.
    mixed = loaded.signatures["score"](
        **history, user_key=tf.constant(["", ""]),
        candidate_item_ids=tf.constant([[ids[0], "no-such-item"]] * 2),
        now=tf.constant([NOW, NOW], tf.int64),
    )["scores"].numpy()  # fmt: skip
    assert (mixed[:, 1] == UNKNOWN_SCORE).all() and (mixed[:, 0] > mixed[:, 1]).all()
    vectors = loaded.signatures["item_vectors"](item_ids=tf.constant([ids[0], "no-such-item"]))
    assert vectors["known"].numpy().tolist() == [True, False]
    np.testing.assert_allclose(
        vectors["item_vectors"].numpy()[0], model.catalog_vectors().numpy()[0], atol=1e-5
    )


def test_unknown_empty_and_overlong_histories(exported):
    _, loaded, _ = exported
    unknown = _history(toy_examples(1, seed=14), 1)
    unknown["history_item_ids"] = tf.constant([["no-such-item"] * LENGTH])
    assert _recommend(loaded, unknown)["item_ids"].shape == (1, 10)
    empty = {
        "history_item_ids": tf.constant([[""], [""]]),
        "history_event_types": tf.constant([[""], [""]]),
        "history_timestamps": tf.constant([[0], [0]], tf.int64),
    }
    result = _recommend(loaded, empty)["item_ids"].numpy()
    assert (result[0] == result[1]).all(), "an empty history falls back to one learned list"
    arrays = toy_examples(5, seed=15)
    history = _history(arrays, 1)
    longer = {
        key: tf.concat([tf.zeros_like(value[:, :3]) if value.dtype != tf.string
                        else tf.fill([1, 3], "tent-1"), value], axis=1)
        for key, value in history.items()
    }  # fmt: skip
    np.testing.assert_array_equal(
        _recommend(loaded, longer)["item_ids"].numpy(), _recommend(loaded, history)["item_ids"]
    )


def _call(loaded, name, **inputs):
    return loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})


def _request(history, n=1, **extra):
    base = {k: v.numpy() for k, v in history.items()}
    base.update(user_key=[""] * n, exclude_item_ids=[[""]] * n, k=np.int32(10))
    return {**base, "now": np.array([NOW] * n), **extra}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"k": np.int32(0)}, "k must be in"),
        ({"k": np.int32(101)}, "k must be in"),
        ({"history_event_types": [["view"]]}, "history_event_types must have the shape"),
        ({"history_timestamps": np.array([[NOW]])}, "history_timestamps must have the shape"),
        ({"user_key": ["", ""]}, "user_key must have one row per"),
        ({"now": np.array([NOW, NOW])}, "now must have one row per"),
        ({"exclude_item_ids": [[""]] * 2}, "exclude_item_ids must have one row per"),
        ({"exclude_item_ids": [["x"] * 101]}, "at most 100 exclude_item_ids"),
    ],
)
def test_malformed_recommend_requests_are_refused_naming_the_input(exported, change, message):
    _, loaded, _ = exported
    request = _request(_history(toy_examples(1, seed=16), 1), **change)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _call(loaded, "recommend", **request)


def test_future_or_millisecond_timestamps_are_refused(exported):
    _, loaded, _ = exported
    history = _history(toy_examples(1, seed=16), 1)
    ms = np.where(history["history_item_ids"].numpy() == b"", 0, NOW * 1000)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unix seconds"):
        _call(loaded, "recommend", **_request(history, history_timestamps=ms))
    skewed = np.where(history["history_item_ids"].numpy() == b"", 0, NOW + 60)
    assert _call(loaded, "recommend", **_request(history, history_timestamps=skewed))[
        "item_ids"
    ].shape == (1, 10)  # a fast client clock (within the allowed skew) is fine


def test_all_100_exclusions_are_honoured(exported):
    model, loaded, _ = exported
    history = _history(toy_examples(1, seed=16), 1)
    first = _call(loaded, "recommend", **_request(history, k=np.int32(5)))["item_ids"].numpy()
    exclude = [list(first[0].astype(str)) + [""] * 95]
    again = _call(loaded, "recommend", **_request(history, k=np.int32(5),
                                                  exclude_item_ids=exclude))  # fmt: skip
    assert not set(again["item_ids"].numpy()[0]) & set(first[0])


def test_malformed_embed_and_score_requests_are_refused(exported):
    _, loaded, _ = exported
    with pytest.raises(tf.errors.InvalidArgumentError, match="texts must have one row per"):
        _call(loaded, "embed_items", item_ids=["a", "b"], texts=["x"], categories=["", ""])
    history = _history(toy_examples(1, seed=16), 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="candidate_item_ids must have"):
        _call(loaded, "score", **{k: v.numpy() for k, v in history.items()}, user_key=[""],
              candidate_item_ids=[["a"], ["b"]], now=np.array([NOW]))  # fmt: skip
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        loaded.signatures["recommend"](**{**history, "history_timestamps": tf.constant([["x"]])})
    one_dim = _request(history, history_item_ids=["a"], history_event_types=["view"],
                       history_timestamps=np.array([NOW]))  # fmt: skip
    with pytest.raises(
        (ValueError, tf.errors.InvalidArgumentError),
        match=r"Shape of tensor history_\w+ \[1\] is not compatible",
    ):
        _call(loaded, "recommend", **one_dim)  # a 1-D history is no batch of histories


def test_every_op_is_servable_by_stock_tf_serving(exported):
    _, _, path = exported
    ops = saved_model_ops(path)
    assert "WordpieceTokenizeWithOffsets" in ops and ("MatMul" in ops or "BatchMatMulV2" in ops)
    assert unsupported_ops(path) == set()
    assert not any(op.lower().startswith("scann") for op in ops)


def _serialized(ids, types, ages):
    examples = []
    for row_ids, row_types, row_ages in zip(ids, types, ages):
        feature = {
            fk.HISTORY_ITEM_IDS: tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[x.encode() for x in row_ids])
            ),
            fk.HISTORY_EVENT_TYPES: tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[x.encode() for x in row_types])
            ),
            fk.HISTORY_AGES_S: tf.train.Feature(float_list=tf.train.FloatList(value=row_ages)),
        }
        example = tf.train.Example(features=tf.train.Features(feature=feature))
        examples.append(example.SerializeToString())
    return tf.constant(examples)


def test_eval_signature_reads_any_recorded_history_length(exported):
    model, loaded, _ = exported
    arrays = toy_examples(6, seed=15)
    ids, types = arrays[fk.HISTORY_ITEM_IDS], arrays[fk.HISTORY_EVENT_TYPES]
    ages = arrays[fk.HISTORY_AGES_S]
    evaluate = loaded.signatures["evaluate_examples"]
    same = evaluate(examples=_serialized(ids, types, ages))["item_ids"].numpy()
    arrays[fk.USER_KEY] = np.array([""] * 6)
    expected = rank_catalog(model, arrays, 10)
    assert [list(r[:10].astype(str)) for r in same] == [
        [model.catalog.ids[i] for i in row] for row in expected
    ]
    # Three older steps in front (a longer recorded history): the most recent LENGTH are kept.
    older = np.full((6, 3), model.catalog.ids[0])
    longer = _serialized(
        np.concatenate([older, ids], 1),
        np.concatenate([np.full((6, 3), "view"), types], 1),
        np.concatenate([np.full((6, 3), 9e5, np.float32), ages], 1),
    )
    np.testing.assert_array_equal(evaluate(examples=longer)["item_ids"].numpy(), same)
    # Rows of different lengths (the unpadded real steps only) are aligned on the most recent.
    ragged = [[x for x in row if x] for row in ids]
    short = _serialized(
        ragged,
        [[t for t, x in zip(trow, row) if x] for trow, row in zip(types, ids)],
        [[a for a, x in zip(arow, row) if x] for arow, row in zip(ages, ids)],
    )
    np.testing.assert_array_equal(evaluate(examples=short)["item_ids"].numpy(), same)


def test_warmup_records_cover_every_signature_and_replay_cleanly(exported):
    from tensorflow_serving.apis import prediction_log_pb2

    from trainer.warmup import warmup_path

    _, loaded, path = exported
    seen = []
    for record in tf.data.TFRecordDataset(warmup_path(path)).as_numpy_iterator():
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        inputs = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
        signature = request.model_spec.signature_name
        outputs = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        assert all(np.all(np.isfinite(v.numpy())) for v in outputs.values() if v.dtype.is_floating)
        seen.append(signature)
    assert set(seen) == {
        fk.RECOMMEND, fk.SEARCH, fk.USER_VECTORS, fk.ITEM_VECTORS, fk.SCORE, fk.EMBED_ITEMS
    }  # fmt: skip
    assert seen.count(fk.RECOMMEND) >= 3  # the first calls of a fresh version are the slow ones
