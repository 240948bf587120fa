"""Training throughput of each ``content_tuning`` mode, side by side in one run.

    python benchmarks/training.py --size small --steps 40 --out outputs/bench_training.json

Generates a sample world, turns it into the pipeline's next-item examples (the benchmark
adapter, no TFX) and trains the same model once per mode for two epochs of ``--steps`` steps.
Reports steady-state examples/s (the second epoch; the first one traces the step function),
the whole fit including top_layers' per-epoch table refresh, model set-up (top_layers caches
the frozen layers' hidden states there) and trainable parameters on the text path.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rtrec.env  # noqa: E402,F401
from benchmarks.tables import print_and_save  # noqa: E402

MODES = ("frozen", "adapter", "top_layers")


def measure(train, mode: str, steps: int, batch_size: int, encoder: str) -> dict:
    """Build and train one model; time set-up and each epoch."""
    from benchmarks.quality import ENCODERS
    from rtrec.hparams import Hyperparameters
    from trainer.offline import RtrecRecommender

    hp = Hyperparameters(
        content_tuning=mode,
        epochs=2,
        steps_per_epoch=steps,
        batch_size=batch_size,
        encoder="tiny" if encoder == "tiny-bert" else "minilm",
    )
    recommender = RtrecRecommender(ENCODERS[encoder], hp)
    started = time.perf_counter()
    recommender.fit(train)
    total = time.perf_counter() - started
    report = recommender.report
    steady = report["epoch_seconds"][-1]
    return {
        "content_tuning": mode,
        "examples_per_second": round(steps * batch_size / steady, 1),
        "fit_seconds": round(report["seconds"], 1),
        "setup_seconds": round(total - report["seconds"], 1),
        "loss_last": round(float(report["loss"][-1]), 4),
    }


def text_parameters(encoder: str) -> dict[str, int]:
    """Trainable text-path parameters per mode (built, not estimated)."""
    from rtrec.hparams import Hyperparameters
    from trainer.bert import BertTextEncoder, EncoderSpec
    from trainer.params import content_parameter_counts

    kind = "tiny" if encoder == "tiny-bert" else "minilm"
    return content_parameter_counts(Hyperparameters(), BertTextEncoder(EncoderSpec(kind)))


def run(size: str, modes, steps: int, batch_size: int, encoder: str, workdir: str) -> list[dict]:
    """Generate the world, split it once, measure every mode on the same training data."""
    from rtrec.data.world import generate_world, write_world
    from rtrec.evaluation.interactions import load_interactions
    from rtrec.evaluation.protocols import make_split

    paths = write_world(generate_world(size, 0), os.path.join(workdir, "data"), "csv")
    train = make_split(load_interactions(paths["events"], paths["items"]), "leave_last_out").train
    params = text_parameters(encoder)
    rows = []
    for mode in modes:
        row = measure(train, mode, steps, batch_size, encoder)
        rows.append({**row, "trainable_text_parameters": params[mode]})
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["tiny", "small", "default", "large"])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--steps", type=int, default=40, help="steps per epoch (two epochs)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--encoder", default="bert", choices=["bert", "tiny-bert"])
    parser.add_argument("--out", default="outputs/bench_training.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        rows = run(args.size, args.modes, args.steps, args.batch_size, args.encoder, workdir)
    title = f"Training throughput, {args.size} world, {args.encoder}, CPU"
    print_and_save(rows, title, "examples_per_second", "content_tuning", args.out)


if __name__ == "__main__":
    main()
