"""Training progress lines: step, elapsed time and an estimate, whether or not stdout is a tty."""

from __future__ import annotations

from dataclasses import replace

from tests.tiny_model import GAP_S, toy_examples
from trainer import progress
from trainer.data import array_dataset
from trainer.model import RtrecModel
from trainer.progress import StepProgress, duration_text, progress_line
from trainer.train import fit


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lines_give_step_elapsed_and_estimate_once_the_epoch_length_is_known(capsys):
    clock = _Clock()
    callback = StepProgress(every_s=30, clock=clock)
    callback.set_params({"epochs": 3, "steps": None})
    callback.on_train_begin()
    callback.on_epoch_begin(0)
    for batch in range(100):
        clock.now += 1.0  # one step per second
        callback.on_train_batch_end(batch, {"loss": 2.5})
    callback.on_epoch_end(0)
    callback.on_epoch_begin(1)
    for batch in range(40):
        clock.now += 1.0
        callback.on_train_batch_end(batch, {"loss": 2.0})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "  epoch 1/3 · step 30 · 30s in this epoch (its length is known after it) · "
        "training 30s · loss 2.5000"
    )
    assert len(lines) == 3 + 1  # every 30 s: 30, 60, 90 in epoch 1; 30 in epoch 2
    assert lines[-1] == (
        "  epoch 2/3 · step 30/100 (30%) · 30s in this epoch, about 1m 10s left · "
        "training 2m 10s, about 2m 50s left · loss 2.0000"
    )


def test_known_steps_give_an_estimate_from_the_first_epoch():
    line = progress_line(0, 2, 50, 200, 100.0, 101.0, 400.0, None)
    assert line == (
        "  epoch 1/2 · step 50/200 (25%) · 1m 40s in this epoch, about 5m 00s left · "
        "training 1m 41s, about 11m 40s left"
    )
    assert [duration_text(s) for s in (4.4, 65, 3720)] == ["4s", "1m 05s", "1h 02m"]


def test_fit_prints_progress_lines(toy_catalog, tiny_hp, capsys, monkeypatch):
    monkeypatch.setattr(progress, "PROGRESS_EVERY_S", 0.0)
    hp = replace(tiny_hp, epochs=1)
    model = RtrecModel(toy_catalog, toy_catalog.ids, ["view"], hp, GAP_S)
    fit(model, array_dataset(toy_examples(128, seed=3), 64, True), None, hp)
    out = capsys.readouterr().out
    assert "  epoch 1/1 · step 1/2 (50%)" in out and "loss " in out
