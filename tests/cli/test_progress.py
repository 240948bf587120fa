"""Pipeline progress is read from ML Metadata: running components, then done with durations."""

from __future__ import annotations

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from cli.progress import COMPLETE, HEARTBEAT_S, RUNNING, _Watcher


class _Recorder:
    def __init__(self):
        self.lines: list[str] = []

    def print(self, text: str) -> None:
        self.lines.append(text)

    def update(self, text: str) -> None:
        self.lines.append(f"status: {text}")


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _store(tmp_path):
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "metadata.sqlite")
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    store = metadata_store.MetadataStore(config)
    type_id = store.put_execution_type(
        metadata_store_pb2.ExecutionType(name="tfx.components.trainer.component.Trainer")
    )
    return store, type_id, str(tmp_path / "metadata.sqlite")


def _start(store, type_id) -> tuple[metadata_store_pb2.Execution, float]:
    execution = metadata_store_pb2.Execution(type_id=type_id, last_known_state=RUNNING)
    [execution.id] = store.put_executions([execution])
    [stored] = store.get_executions_by_id([execution.id])
    return execution, stored.create_time_since_epoch / 1000


def test_watcher_reports_running_and_finished_components(tmp_path):
    store, type_id, path = _store(tmp_path)
    recorder, clock = _Recorder(), _Clock()
    watcher = _Watcher(recorder, recorder, path, total=3, clock=clock)
    watcher.started_ms -= 1000
    execution, created = _start(store, type_id)
    clock.now = created + 65
    watcher.poll()
    assert recorder.lines == ["status: [1/3] running Trainer (1m 05s)"]
    execution.last_known_state = COMPLETE
    store.put_executions([execution])
    watcher.poll()
    watcher.poll()  # reported once only
    done = [line for line in recorder.lines if "done" in line]
    assert len(done) == 1 and "Trainer" in done[0]


def test_outside_a_terminal_a_long_component_prints_a_line_every_heartbeat(tmp_path):
    store, type_id, path = _store(tmp_path)
    recorder, clock = _Recorder(), _Clock()
    watcher = _Watcher(recorder, recorder, path, total=3, interactive=False, clock=clock)
    watcher.started_ms -= 1000
    _, created = _start(store, type_id)
    for offset in (1, 2, HEARTBEAT_S / 2, HEARTBEAT_S + 1, HEARTBEAT_S + 2, 2 * HEARTBEAT_S + 1):
        clock.now = created + offset
        watcher.poll()
    printed = [line for line in recorder.lines if not line.startswith("status:")]
    assert printed == [
        "  [1/3] started Trainer",
        "  Trainer still running (1m 01s)",
        "  Trainer still running (2m 01s)",
    ]
