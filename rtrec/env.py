"""Process-wide environment for TensorFlow: legacy Keras (tf-keras) before TF is imported.

TensorFlow Recommenders, TFMA and TFX module files are written against tf-keras (Keras 2).
TensorFlow 2.16 defaults to Keras 3 unless ``TF_USE_LEGACY_KERAS=1`` is set *before*
``tensorflow`` is first imported, and the choice cannot be changed afterwards. Every entry
point (CLI, package ``__init__``s, Beam workers via the same imports, tests) imports this module
first, so no process can forget it.
"""

from __future__ import annotations

import os
import sys
import warnings

LEGACY_KERAS_VAR = "TF_USE_LEGACY_KERAS"
ONEDNN_VAR = "TF_ENABLE_ONEDNN_OPTS"


class KerasVersionError(RuntimeError):
    """TensorFlow was imported with Keras 3 before rtrec could select tf-keras."""


def ensure_legacy_keras() -> None:
    """Select tf-keras for this process, or fail loudly if it is too late to do so."""
    already_imported = "tensorflow" in sys.modules
    if already_imported and os.environ.get(LEGACY_KERAS_VAR) != "1":
        raise KerasVersionError(
            "TensorFlow was imported before rtrec set TF_USE_LEGACY_KERAS=1, so it uses Keras 3 "
            "and tensorflow-recommenders cannot work. Import rtrec (or any of its packages) "
            "before tensorflow, or export TF_USE_LEGACY_KERAS=1 in the environment."
        )
    os.environ[LEGACY_KERAS_VAR] = "1"
    # Quieter TensorFlow start-up; users may still override these.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # google-cloud packages warn about Python 3.10 on every import; TFX 1.16 requires 3.10.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")


ensure_legacy_keras()


def use_eigen_kernels() -> None:
    """Run TensorFlow's Eigen CPU kernels, as stock TF Serving does, instead of oneDNN's.

    Called by ``rtrec serve-model`` before TensorFlow is imported. TF 2.16's oneDNN kernels
    corrupt the heap when one model runs on several threads with inputs of varying batch size
    (the attention blocks' rank-4 products; tensorflow/tensorflow#117700): with
    ``--enable_batching`` the server died with "double free or corruption" under 16 clients.
    The stock ``tensorflow/serving`` images use the Eigen kernels too, so the embedded server
    computes what production computes. An explicit ``TF_ENABLE_ONEDNN_OPTS`` wins.
    """
    if "tensorflow" in sys.modules:
        return  # too late to choose for this process (in-process tests); nothing to change
    os.environ.setdefault(ONEDNN_VAR, "0")
