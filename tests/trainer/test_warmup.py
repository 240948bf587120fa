"""trainer/warmup.py: the warm-up file parses back, with TF Serving's protos, as what was given."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from trainer.warmup import MAX_RECORDS, warmup_path, write_warmup_requests


def _read(path: str) -> list[prediction_log_pb2.PredictionLog]:
    logs = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    return logs


def test_writes_one_predict_log_per_request(tmp_path):
    version = tmp_path / "3"
    version.mkdir()
    history = np.array([["lamp-1", "lamp-2", ""]], dtype=object)
    path = write_warmup_requests(
        str(version),
        "rtrec",
        [
            ("recommend", {"history_item_ids": history, "k": np.int32(10)}),
            ("serving_default", {"x": np.array([[1.0, 2.0]], dtype=np.float32)}),
        ],
    )
    assert path == warmup_path(str(version))
    assert path == str(version / "assets.extra" / "tf_serving_warmup_requests")
    first, second = _read(path)
    assert first.WhichOneof("log_type") == "predict_log"
    request = first.predict_log.request
    assert request.model_spec.name == "rtrec"
    assert request.model_spec.signature_name == "recommend"
    assert tf.make_ndarray(request.inputs["history_item_ids"]).tolist() == [
        [b"lamp-1", b"lamp-2", b""]
    ]
    k = tf.make_ndarray(request.inputs["k"])
    assert k.shape == () and k.dtype == np.int32 and int(k) == 10
    x = tf.make_ndarray(second.predict_log.request.inputs["x"])
    assert x.dtype == np.float32 and x.tolist() == [[1.0, 2.0]]


def test_refuses_what_tf_serving_would_refuse(tmp_path):
    with pytest.raises(FileNotFoundError, match="write the SavedModel first"):
        write_warmup_requests(str(tmp_path / "missing"), "rtrec", [("s", {"x": np.ones(1)})])
    with pytest.raises(ValueError, match="no warm-up requests"):
        write_warmup_requests(str(tmp_path), "rtrec", [])
    with pytest.raises(ValueError, match="at most 1000"):
        write_warmup_requests(str(tmp_path), "m", [("s", {"x": np.ones(1)})] * (MAX_RECORDS + 1))
    with pytest.raises(ValueError, match="has no inputs"):
        write_warmup_requests(str(tmp_path), "rtrec", [("s", {})])
