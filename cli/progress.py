"""Live progress for long pipeline runs: which component runs now, and how long each took.

A background thread polls the run's ML Metadata store (read-only) for executions started since
the run began. Watching metadata, not log lines, keeps working whatever the components do to
Python logging (TFX's Transform executor resets absl's verbosity, for one). In a terminal a
status line shows the running components and their elapsed time; elsewhere (a log, a pipe),
where that line would never show, each start is printed and a running component prints a line
every ``HEARTBEAT_S`` seconds, so a long step is never silent.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from rich.console import Console

RUNNING, COMPLETE, FAILED, CACHED = 2, 3, 4, 5  # ml_metadata Execution.State values
POLL_S = 1.0
HEARTBEAT_S = 60.0


def _component(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


class _Watcher(threading.Thread):
    def __init__(
        self,
        console: Console,
        status,
        metadata_path: str,
        total: int,
        interactive: bool = True,
        clock=time.time,
    ):
        super().__init__(daemon=True)
        self.console, self.status, self.path, self.total = console, status, metadata_path, total
        self.interactive, self.clock = interactive, clock
        self.started_ms = int(clock() * 1000)
        self.stop = threading.Event()
        self.reported: set[int] = set()
        self.last_line: dict[int, float] = {}
        """Running execution id -> when a line last said so (non-interactive output)."""

    def poll(self) -> None:
        from cli.run_summary import _store

        try:
            store = _store(self.path)
            executions = [
                e for e in store.get_executions() if e.create_time_since_epoch >= self.started_ms
            ]
        except Exception:  # noqa: BLE001  (the store may be missing or locked mid-write; retry)
            return
        types = {t.id: t.name for t in store.get_execution_types()}
        running = []
        now = self.clock()
        for execution in sorted(executions, key=lambda e: e.id):
            name = _component(types.get(execution.type_id, "?"))
            state = execution.last_known_state
            if state == RUNNING:
                elapsed = now - execution.create_time_since_epoch / 1000
                running.append(f"{name} ({_elapsed(elapsed)})")
                self._heartbeat(execution.id, name, elapsed, now)
            elif state in (COMPLETE, CACHED, FAILED) and execution.id not in self.reported:
                self.reported.add(execution.id)
                took = (
                    execution.last_update_time_since_epoch - execution.create_time_since_epoch
                ) / 1000
                mark = "[red]failed[/]" if state == FAILED else "[green]done[/]"
                self.console.print(f"  {mark} {name} ({took:.1f}s)")
        if running:
            self.status.update(
                f"[{len(self.reported) + 1}/{self.total}] running {', '.join(running)}"
            )

    def _heartbeat(self, execution_id: int, name: str, elapsed: float, now: float) -> None:
        """Outside a terminal: a line when a component starts, then one every HEARTBEAT_S."""
        if self.interactive:
            return
        last = self.last_line.get(execution_id)
        if last is None:
            step = len(self.reported) + 1
            self.console.print(f"  [{step}/{self.total}] started {name}")
        elif now - last >= HEARTBEAT_S:
            self.console.print(f"  {name} still running ({_elapsed(elapsed)})")
        else:
            return
        self.last_line[execution_id] = now

    def run(self) -> None:
        while not self.stop.wait(POLL_S):
            self.poll()
        self.poll()


@contextlib.contextmanager
def pipeline_progress(console: Console, stop_after: str, metadata_path: str) -> Iterator[None]:
    """Show component-level progress while the body runs the pipeline."""
    from pipeline.pipeline import STAGES

    total = STAGES.index(stop_after) + 2 if stop_after in STAGES else len(STAGES) + 1
    with console.status("Starting the pipeline") as status:
        watcher = _Watcher(console, status, metadata_path, total, console.is_terminal)
        watcher.start()
        try:
            yield
        finally:
            watcher.stop.set()
            watcher.join()
