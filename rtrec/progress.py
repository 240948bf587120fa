"""Live progress for long pipeline runs: which TFX component runs now, and for how long.

TFX's LocalDagRunner logs "Component X is running." through absl logging; a logging handler
turns those lines into a rich status line, so no TFX internals are patched.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator

from rich.console import Console

_RUNNING = re.compile(r"Component (\w+) is running")
_FINISHED = re.compile(r"Component (\w+) is finished")


class _ComponentHandler(logging.Handler):
    def __init__(self, console: Console, status, total: int):
        super().__init__(level=logging.INFO)
        self.console, self.status, self.total = console, status, total
        self.done = 0
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            logging.getLogger().handle(record)  # warnings still reach the usual handlers
            return
        message = record.getMessage()
        if match := _RUNNING.search(message):
            name = match.group(1)
            self.started[name] = time.perf_counter()
            self.status.update(f"[{self.done + 1}/{self.total}] {name} running")
        elif match := _FINISHED.search(message):
            name = match.group(1)
            self.done += 1
            took = time.perf_counter() - self.started.get(name, time.perf_counter())
            self.console.print(f"  [green]done[/] {name} ({took:.1f}s)")


@contextlib.contextmanager
def pipeline_progress(console: Console, stop_after: str) -> Iterator[None]:
    """Show component-level progress while the body runs the pipeline."""
    from pipeline.pipeline import STAGES

    total = STAGES.index(stop_after) + 1 if stop_after in STAGES else len(STAGES)
    logger = logging.getLogger("absl")
    previous = logger.level
    with console.status("Starting the pipeline") as status:
        handler = _ComponentHandler(console, status, total)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # INFO chatter stays out of the terminal
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous)
            logger.propagate = True
