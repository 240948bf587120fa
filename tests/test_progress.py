"""Pipeline progress is read from ML Metadata: running components, then done with durations."""

from __future__ import annotations

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from rtrec.progress import COMPLETE, RUNNING, _Watcher


class _Recorder:
    def __init__(self):
        self.lines: list[str] = []

    def print(self, text: str) -> None:
        self.lines.append(text)

    def update(self, text: str) -> None:
        self.lines.append(f"status: {text}")


def test_watcher_reports_running_and_finished_components(tmp_path):
    path = str(tmp_path / "metadata.sqlite")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    store = metadata_store.MetadataStore(config)
    type_id = store.put_execution_type(
        metadata_store_pb2.ExecutionType(name="tfx.components.trainer.component.Trainer")
    )
    recorder = _Recorder()
    watcher = _Watcher(recorder, recorder, path, total=3)
    watcher.started_ms -= 1000
    execution = metadata_store_pb2.Execution(type_id=type_id, last_known_state=RUNNING)
    [execution_id] = store.put_executions([execution])
    watcher.poll()
    assert recorder.lines == ["status: [1/3] Trainer running"]
    execution.id, execution.last_known_state = execution_id, COMPLETE
    store.put_executions([execution])
    watcher.poll()
    watcher.poll()  # reported once only
    done = [line for line in recorder.lines if "done" in line]
    assert len(done) == 1 and "Trainer" in done[0]
