"""Tiny SavedModels for the serving tests, in the shapes rtrec's export uses.

Signatures cover float, int64 and string inputs, a scalar ``k`` (TensorSpec([], tf.int32)),
single- and multi-output results, ``_bytes`` outputs and a TF Text op; every call bumps the
``calls`` variable so tests can count runs (warm-up replay, batching). Outputs carry the
version number, so a test can tell which version answered.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from trainer.warmup import write_warmup_requests


class ToyModel(tf.Module):
    def __init__(self, version: int) -> None:
        super().__init__()
        self.bias = tf.Variable(float(version))
        self.version = tf.constant(version, tf.int64)
        self.calls = tf.Variable(0, dtype=tf.int64)

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    def half_plus_version(self, x):
        self.calls.assign_add(1)
        return {"y": x * 0.5 + self.bias}

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string, name="ids"),
            tf.TensorSpec([None], tf.int64, name="counts"),
            tf.TensorSpec([], tf.int32, name="k"),
        ]
    )
    def multi(self, ids, counts, k):
        self.calls.assign_add(1)
        return {
            "ids": ids,
            "total": counts * tf.cast(k, tf.int64),
            "version": tf.fill(tf.shape(counts), self.version),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
    def bytes_io(self, image_bytes):
        self.calls.assign_add(1)
        return {"length": tf.strings.length(image_bytes), "echo_bytes": image_bytes}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name="rows")])
    def lookup(self, rows):
        """Fails inside the graph (INVALID_ARGUMENT) for a row outside [0, 3)."""
        self.calls.assign_add(1)
        return {"names": tf.gather(tf.constant(["a", "b", "c"]), rows)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def tokens(self, text):
        self.calls.assign_add(1)
        return {"n_tokens": tf_text.WhitespaceTokenizer().tokenize(text).row_lengths()}


class HalfPlusThree(tf.Module):
    """TF Serving's documented example model: ``y = 0.5 * x + 3`` for any shape of ``x``."""

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32, name="x")])
    def predict(self, x):
        return {"y": x * 0.5 + 3.0}


def write_half_plus_three(path: str) -> str:
    model = HalfPlusThree()
    tf.saved_model.save(model, path, signatures={"serving_default": model.predict})
    return path


def write_toy_model(path: str, version: int) -> str:
    """Save a ToyModel for ``version`` at ``path`` (a version folder)."""
    model = ToyModel(version)
    signatures = {
        "serving_default": model.half_plus_version,
        "multi": model.multi,
        "bytes": model.bytes_io,
        "tokens": model.tokens,
        "lookup": model.lookup,
    }
    tf.saved_model.save(model, path, signatures=signatures)
    return path


def add_warmup(path: str, records: int) -> str:
    """Give the version at ``path`` ``records`` warm-up requests of its default signature."""
    x = np.array([[1.0, 2.0]], dtype=np.float32)
    return write_warmup_requests(path, "toy", [("serving_default", {"x": x})] * records)
