"""The command line as a new user meets it: fast help, quiet start-up, tools that start, and
the last run found without flags."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli import pipeline_commands
from cli.main import main
from cli.noise import python_warning_args

COMMANDS = ("", "run", "retrain", "demo", "inspect", "report", "tensorboard", "bench quality",
            "serve-model", "gateway", "ab-report", "skew", "compile-kubeflow", "config show",
            "config reference")  # fmt: skip
HEAVY = (
    "tensorflow", "tfx", "apache_beam", "ml_metadata", "transformers", "pandas", "pyarrow", "kfp",
)  # fmt: skip


def _python(code: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (this one has long imported TensorFlow)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_help_imports_no_heavy_library():
    """Every command's --help (and `rtrec --help`) loads only click, rich and the config."""
    done = _python(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from cli.main import main\n"
        f"for args in {[[*command.split(), '--help'] for command in COMMANDS]!r}:\n"
        "    result = CliRunner().invoke(main, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_command_that_loads_tensorflow_prints_no_registration_noise(tmp_path):
    """`rtrec inspect` on an empty metadata store imports TFX and TensorFlow, quietly."""
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "metadata.sqlite")
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    metadata_store.MetadataStore(config)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "inspect", "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(os.path.dirname(pipeline_commands.__file__)),
    )
    assert done.returncode == 0, done.stderr
    assert "No ingestion report found" in done.stdout
    assert "Unable to register" not in done.stderr, done.stderr


def test_tensorflow_noise_is_dropped_and_everything_else_on_stderr_kept():
    done = _python(
        "import os, sys\n"
        "from cli.noise import silence_known_noise\n"
        "silence_known_noise()\n"
        "print('before', file=sys.stderr)\n"
        "import tensorflow\n"
        "os.write(2, b'a real error\\n')\n"
        "import importlib.resources\n"
        "assert importlib.resources.files('tensorflow').joinpath('__init__.py').is_file()\n"
        "assert tensorflow.__spec__.loader.is_package('tensorflow')\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Unable to register" not in done.stderr
    assert "before" in done.stderr and "a real error" in done.stderr


def test_transformers_weight_loading_chatter_is_dropped_and_real_warnings_kept():
    import logging

    from cli.noise import silence_known_noise

    silence_known_noise()
    logger = logging.getLogger("transformers.modeling_tf_pytorch_utils")
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        logger.warning(
            "All the weights of TFBertModel were initialized from the PyTorch model.\n"
            "If your task is similar to the task the model of the checkpoint was trained on, "
            "you can already use TFBertModel for predictions without further training."
        )
        logger.warning(
            "Some weights of the PyTorch model were not used when initializing the TF 2.0 model"
            " TFBertModel: ['embeddings.position_ids']\n- This IS expected if ..."
        )
        logger.warning(
            "Some weights of the PyTorch model were not used when initializing the TF 2.0 model"
            " TFBertModel: ['pooler.dense.weight']\n- This IS expected if ..."
        )
    finally:
        logger.removeHandler(handler)
    assert len(seen) == 1 and "pooler.dense.weight" in seen[0]


def test_tensorboard_starts_with_the_pinned_tools():
    """TensorBoard 2.16 imports pkg_resources, which setuptools >= 82 no longer ships."""
    done = subprocess.run(
        [sys.executable, *python_warning_args(), "-m", "tensorboard.main", "--version_tb"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2.16"), done.stdout
    assert "pkg_resources is deprecated" not in done.stderr
    assert "FutureWarning" not in done.stderr


def test_without_any_run_the_commands_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("inspect", "report", "tensorboard"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 1, result.output
        assert "no run found in outputs/run" in result.output
        assert "rtrec demo" in result.output


@pytest.mark.e2e
@pytest.mark.slow
def test_after_demo_inspect_report_and_tensorboard_find_the_run_with_no_flags(
    tmp_path, monkeypatch
):
    """What a new user does after `make demo`; the model is pushed under the run's folder."""
    monkeypatch.chdir(tmp_path)
    launched: list[str] = []

    def launch(log_dir: str, port: int) -> None:
        launched.append(log_dir)

    monkeypatch.setattr(pipeline_commands, "_launch_tensorboard", launch)
    settings = (
        "ingestion.now=2025-07-01T00:00:00Z",
        "trainer.hparams.encoder=tiny",
        "trainer.embedding_cache_dir=cache",
        "trainer.hparams={epochs: 2, embedding_dim: 16}",  # blessed by the default bounds
    )
    args = ["demo", "--size", "tiny", *[a for s in settings for a in ("--set", s)]]
    demo = CliRunner().invoke(main, args)
    assert demo.exit_code == 0, demo.output
    run_dir = tmp_path / "outputs" / "demo" / "run"
    assert (run_dir / "report.html").exists()
    assert "outputs/demo/run/report.html" in demo.output and "rtrec tensorboard" in demo.output
    versions = os.listdir(run_dir / "serving" / "rtrec")
    assert len(versions) == 1 and str(run_dir / "serving" / "rtrec") in demo.output
    assert not (tmp_path / "outputs" / "serving").exists()
    # then the pushed model is served and queried, and the gateway tells a shopper's story
    assert "recommend, version" in demo.output and "after viewing" in demo.output
    assert "Recommendations right after the clicks" in demo.output
    assert "new item" in demo.output and "through POST /v1/items" in demo.output
    assert (tmp_path / "outputs" / "demo" / "serving" / "gateway.log").exists()
    # the requests the story sent, checked for skew against the training data
    skew = CliRunner().invoke(main, ["skew", "--requests", "outputs/demo/serving/events/requests"])
    assert "logged requests from" in skew.output and "history_event_types: " in skew.output
    assert (run_dir / "skew" / "skew.json").exists()
    (run_dir / "report.html").unlink()
    for command in ("inspect", "report", "tensorboard"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 0, (command, result.output)
        if command == "inspect":
            assert "Training/serving skew in serving" in result.output
    assert (run_dir / "report.html").exists()
    assert "Training/serving skew (serving)" in (run_dir / "report.html").read_text()
    assert len(launched) == 1 and launched[0].startswith(str(run_dir / "pipeline"))
