"""Filters exactly the known start-up noise of TensorFlow and transformers, and nothing else.

TensorFlow 2.16's wheels register the cuFFT, cuDNN and cuBLAS plugins twice, so importing
TensorFlow prints three "Unable to register ... factory" lines at ERROR level, from C++ straight
to file descriptor 2, on every machine and every command, GPU or not; they are harmless.
``TF_CPP_MIN_LOG_LEVEL=3`` would hide them, and every real TensorFlow error with them, so
instead the first ``import tensorflow`` runs with descriptor 2 captured, and every captured line
but those three is written back. No library does this: the lines come from C++, below Python's
``warnings`` and ``logging``.

transformers logs at WARNING how the MiniLM weights were loaded (all of them; the one unused
buffer ``embeddings.position_ids``) and that its TensorFlow classes are deprecated (rtrec pins
transformers 4.57 in requirements.in, which is that message's advice). A ``logging.Filter`` on
the two loggers drops exactly those records; any other weight warning still shows.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

TENSORFLOW_NOISE = re.compile(
    r"Unable to register (cuFFT|cuDNN|cuBLAS) factory: Attempting to register factory for "
    r"plugin (cuFFT|cuDNN|cuBLAS) when one has already been registered"
)

CHILD_WARNING_FILTERS: tuple[str, ...] = (
    "ignore:pkg_resources is deprecated as an API:UserWarning",
    "ignore::FutureWarning:google.api_core._python_version_support",
)
"""``python -W`` filters for a child process such as TensorBoard: TensorBoard 2.16 imports
pkg_resources, on which setuptools < 81 (pinned for it) warns, and the pin is that warning's
own advice; google-cloud warns about Python 3.10, which TFX 1.16 requires (rtrec/env.py
filters the same warning in this process)."""


def python_warning_args() -> list[str]:
    """``-W`` arguments for a child Python process, from :data:`CHILD_WARNING_FILTERS`."""
    return [arg for spec in CHILD_WARNING_FILTERS for arg in ("-W", spec)]


TRANSFORMERS_CHATTER: dict[str, tuple[re.Pattern[str], ...]] = {
    "transformers.modeling_tf_pytorch_utils": (
        re.compile(r"All the weights of \w+ were initialized from the PyTorch model\."),
        re.compile(r"All PyTorch model weights were used when initializing \w+\."),
        re.compile(
            r"Some weights of the PyTorch model were not used when initializing the TF 2\.0 "
            r"model \w+: \['embeddings\.position_ids'\]\n"
        ),
    ),
    "transformers.modeling_tf_utils": (
        re.compile(
            r"TensorFlow and JAX classes are deprecated and will be removed in Transformers"
        ),
    ),
}


def is_noise(line: str) -> bool:
    """Whether one line of stderr is TensorFlow's known plugin-registration noise."""
    return TENSORFLOW_NOISE.search(line) is not None


def drop_noise(lines: Iterable[str], out: IO[str]) -> None:
    """Copy ``lines`` to ``out`` as they come, without the known noise (e.g. a child's stderr)."""
    for line in lines:
        if not is_noise(line):
            out.write(line)
            out.flush()


@contextlib.contextmanager
def _filtered_stderr() -> Iterator[None]:
    """Capture file descriptor 2 in the body, then write back all but the known noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            drop_noise(text.splitlines(keepends=True), sys.stderr)


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of the ``tensorflow`` package with stderr filtered."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def __getattr__(self, name: str):
        """Everything else (resource readers, is_package, get_data) is the real loader's."""
        return getattr(self.loader, name)

    def exec_module(self, module) -> None:
        with _filtered_stderr():
            self.loader.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the normal path finder and wraps its loader, once."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


class _DropChatter(logging.Filter):
    def __init__(self, patterns: tuple[re.Pattern[str], ...]):
        super().__init__()
        self.patterns = patterns

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(p.match(message) for p in self.patterns)


_installed = False


def silence_known_noise() -> None:
    """Filter the known noise for the rest of this process (idempotent, imports nothing heavy).

    Call it before TensorFlow is imported; the CLI does, for every command.
    """
    global _installed
    if _installed:
        return
    _installed = True
    if "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
    for name, patterns in TRANSFORMERS_CHATTER.items():
        logging.getLogger(name).addFilter(_DropChatter(patterns))
