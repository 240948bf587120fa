"""Test-wide setup: tf-keras before TensorFlow, a fast local Beam runner, tiny sizes."""

from __future__ import annotations

import os

import pytest

import rtrec.env  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before any test imports TensorFlow)

os.environ.setdefault("RTREC_PSEUDONYM_KEY", "test-key")

from rtrec.config import LOCAL_BEAM_ARGS

pytest_plugins = ["tests.tiny_model"]


def pytest_collection_modifyitems(config, items):
    """Skip `gpu` tests where TensorFlow sees no GPU."""
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return
    skip = pytest.mark.skip(reason="needs a GPU")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.fixture
def beam_args() -> list[str]:
    return list(LOCAL_BEAM_ARGS)
