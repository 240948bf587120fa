"""The command line as a new user meets it: fast help, quiet start-up, tools that start."""

from __future__ import annotations

import subprocess
import sys


def test_tensorboard_starts_with_the_pinned_tools():
    """TensorBoard 2.16 imports pkg_resources, which setuptools >= 82 no longer ships."""
    done = subprocess.run(
        [sys.executable, "-m", "tensorboard.main", "--version_tb"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2.16"), done.stdout
