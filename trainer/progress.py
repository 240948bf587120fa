"""Training progress as plain lines: the step, the time taken and an estimate of the time left.

Keras' own progress either redraws one line with carriage returns (``verbose=1``), which a log
or any stdout that is not a terminal records as one endless line, or prints only when an epoch
ends (``verbose=2``): 8 to 11 minutes of silence per epoch on the default world. tqdm's and
rich's bars redraw the same way outside a terminal, so this callback is written by hand: every
``PROGRESS_EVERY_S`` seconds it prints one self-contained line, read alike in a terminal and in
a log.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import tensorflow as tf

PROGRESS_EVERY_S = 30.0


def duration_text(seconds: float) -> str:
    """Seconds as '45s', '7m 05s' or '1h 02m'."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def progress_line(
    epoch: int,
    epochs: int,
    step: int,
    steps: int | None,
    epoch_s: float,
    train_s: float,
    epoch_estimate_s: float | None,
    loss: float | None,
) -> str:
    """One line: where training is, how long it took so far, and about how long is left.

    ``epoch`` is 0-based; ``steps`` is None while the steps per epoch are unknown (the first
    epoch over a dataset of unknown size); ``epoch_estimate_s`` is the expected length of a
    whole epoch (None when unknown), used for the epochs still to come.
    """
    parts = [f"epoch {epoch + 1}/{epochs}"]
    left: float | None = None
    if steps:
        parts.append(f"step {step:,}/{steps:,} ({100 * step / steps:.0f}%)")
        left = epoch_s / step * max(steps - step, 0)
        parts.append(f"{duration_text(epoch_s)} in this epoch, about {duration_text(left)} left")
    else:
        parts.append(f"step {step:,}")
        parts.append(f"{duration_text(epoch_s)} in this epoch (its length is known after it)")
    later = epochs - epoch - 1
    if left is not None and (later == 0 or epoch_estimate_s is not None):
        total_left = left + later * (epoch_estimate_s or 0.0)
        parts.append(f"training {duration_text(train_s)}, about {duration_text(total_left)} left")
    else:
        parts.append(f"training {duration_text(train_s)}")
    if loss is not None:
        parts.append(f"loss {loss:.4f}")
    return "  " + " · ".join(parts)


class StepProgress(tf.keras.callbacks.Callback):
    """Prints :func:`progress_line` every ``every_s`` seconds of training, to stdout."""

    def __init__(self, every_s: float | None = None, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.every_s = PROGRESS_EVERY_S if every_s is None else every_s
        self.clock = clock
        self.steps: int | None = None
        self.epoch_seconds: list[float] = []
        self.epoch = 0
        self.step = 0
        self.train_started = self.epoch_started = self.last_print = 0.0

    def on_train_begin(self, logs=None):
        self.train_started = self.clock()
        self.steps = self.params.get("steps") or None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.step = epoch, 0
        self.epoch_started = self.last_print = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        self.step = batch + 1
        now = self.clock()
        if now - self.last_print < self.every_s:
            return
        self.last_print = now
        estimate = None
        if self.epoch_seconds:
            estimate = sum(self.epoch_seconds) / len(self.epoch_seconds)
        elif self.steps:
            estimate = (now - self.epoch_started) / self.step * self.steps
        loss = (logs or {}).get("loss")
        line = progress_line(
            self.epoch,
            self.params.get("epochs", 1),
            self.step,
            self.steps,
            now - self.epoch_started,
            now - self.train_started,
            estimate,
            float(loss) if loss is not None else None,
        )
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(self.clock() - self.epoch_started)
        self.steps = self.steps or self.step or None
