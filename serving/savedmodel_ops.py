"""Which ops a SavedModel uses, and whether stock TF Serving 2.16 can run all of them.

TF Serving loads only ops it links: core TensorFlow plus TF Text 2.12 (no ScaNN). A model that
uses anything else fails at load time in production, so the test suite checks every export.
"""

from __future__ import annotations

import os
from importlib import resources

from tensorflow.core.protobuf import saved_model_pb2

ALLOWLIST_FILE = "tf_text_2_12_ops.txt"


def saved_model_ops(path: str) -> set[str]:
    """Every op type in the graph and in every function of the SavedModel at ``path``."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as handle:
        proto.ParseFromString(handle.read())
    ops: set[str] = set()
    for graph in proto.meta_graphs:
        functions = {f.signature.name for f in graph.graph_def.library.function}
        ops |= {node.op for node in graph.graph_def.node}
        for function in graph.graph_def.library.function:
            ops |= {node.op for node in function.node_def}
        ops -= functions  # calls of the model's own functions are not ops
    return ops


def tf_text_allowlist() -> set[str]:
    """TF Text ops known to exist in TF Text 2.12 (see the allow-list file for sources)."""
    text = resources.files("serving").joinpath("op_allowlist", ALLOWLIST_FILE).read_text()
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def core_ops() -> set[str]:
    """Core TensorFlow ops: those with a generated ``tf.raw_ops`` wrapper."""
    import tensorflow as tf

    return {name for name in dir(tf.raw_ops) if not name.startswith("_")}


def unsupported_ops(path: str) -> set[str]:
    """Ops of the SavedModel that stock TF Serving 2.16 would not know."""
    return saved_model_ops(path) - core_ops() - tf_text_allowlist()
