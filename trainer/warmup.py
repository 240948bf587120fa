"""Warm-up requests for an exported version, in the file TF Serving replays before serving it.

TF Serving (and ``rtrec serve-model``) reads ``<version>/assets.extra/tf_serving_warmup_requests``
when it loads a version: a TFRecord of ``PredictionLog`` protos, each one request it runs
before the version is AVAILABLE. That moves the first calls' graph tracing, kernel selection and
memory allocation off the first real user. Standalone on purpose (TensorFlow, TF Serving's
protos and the standard library only), so the exporter can call it without importing serving.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

WARMUP_DIR = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"
MAX_RECORDS = 1000  # TF Serving refuses a version with more (WarmupConsts::kMaxNumRecords)


def warmup_path(version_dir: str) -> str:
    """Where TF Serving looks for the warm-up records of the version at ``version_dir``."""
    return os.path.join(version_dir, WARMUP_DIR, WARMUP_FILE)


def predict_log(
    model_name: str, signature_name: str, inputs: Mapping[str, np.ndarray]
) -> prediction_log_pb2.PredictionLog:
    """One warm-up record: a PredictRequest for ``signature_name`` with these input tensors."""
    if not inputs:
        raise ValueError(f"warm-up request for signature {signature_name!r} has no inputs")
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name)
    )
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def write_warmup_requests(
    version_dir: str,
    model_name: str,
    requests: Sequence[tuple[str, Mapping[str, np.ndarray]]],
) -> str:
    """Write ``(signature_name, inputs)`` requests as the version's warm-up file; its path.

    Inputs are numpy arrays (or values numpy can hold) with the dtypes and shapes the signature
    takes, e.g. ``("recommend", {"history_item_ids": np.array([["a", ""]]), "k":
    np.int32(10)})``: TF Serving does not convert types, so a warm-up request whose dtypes do
    not match its signature fails the whole load. Call it after ``tf.saved_model.save``.
    """
    if not os.path.isdir(version_dir):
        raise FileNotFoundError(
            f"{version_dir} is not a folder: write the SavedModel first, then its warm-up file"
        )
    if not requests:
        raise ValueError("no warm-up requests given; TF Serving needs at least one to warm up")
    if len(requests) > MAX_RECORDS:
        raise ValueError(
            f"{len(requests)} warm-up requests; TF Serving accepts at most {MAX_RECORDS}"
        )
    logs = [predict_log(model_name, signature, inputs) for signature, inputs in requests]
    path = warmup_path(version_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    return path
