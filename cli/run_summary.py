"""Summary of the last pipeline run, read from ML Metadata: row counts, rejections, anomalies."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.artifacts import IngestionReport
from components.ingestion.report import REPORT_FILE


@dataclass
class RunSummary:
    """What `rtrec inspect` shows about the latest run in an output directory."""

    report: dict | None = None
    report_uri: str | None = None
    anomalies: dict[str, list[str]] = field(default_factory=dict)
    """Split name -> 'feature: description' for each schema anomaly ExampleValidator found."""
    drift: dict[str, list[str]] = field(default_factory=dict)
    """The same for distribution drift against the previous run (DistributionValidator)."""
    skew: dict[str, list[str]] = field(default_factory=dict)
    """The same for training/serving skew on the gateway's requests (`rtrec skew`)."""
    artifacts: dict[str, str] = field(default_factory=dict)
    """Artifact type -> URI of its latest artifact."""
    gate: object | None = None
    """components.evaluation.results.GateResult of the latest evaluation, if any."""
    pushed_to: str | None = None
    """Where the latest run's Pusher wrote the model (None: nothing pushed)."""


def _store(metadata_path: str) -> metadata_store.MetadataStore:
    if not os.path.exists(metadata_path):
        raise FileNotFoundError(
            f"no pipeline metadata at {metadata_path}: run `rtrec run` (or `make demo`) first"
        )
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def _latest(store, type_name: str, producer: str):
    """Latest artifact of a type written by ``producer`` (TFX lays URIs out by component id)."""
    dead = (metadata_store_pb2.Artifact.DELETED, metadata_store_pb2.Artifact.ABANDONED)
    live = [
        a
        for a in store.get_artifacts_by_type(type_name)
        if a.state not in dead and f"/{producer}/" in a.uri
    ]
    return max(live, key=lambda a: a.id) if live else None


def _read_anomalies(uri: str) -> dict[str, list[str]]:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found: dict[str, list[str]] = {}
    for split_dir in sorted(os.listdir(uri)):
        path = os.path.join(uri, split_dir, "SchemaDiff.pb")
        if not os.path.exists(path):
            continue
        anomalies = anomalies_pb2.Anomalies()
        with open(path, "rb") as handle:
            anomalies.ParseFromString(handle.read())
        found[split_dir.removeprefix("Split-")] = [
            f"{name}: {info.short_description} ({info.description})"
            for name, info in sorted(anomalies.anomaly_info.items())
        ]
    return found


def load_summary(metadata_path: str) -> RunSummary:
    """Read the latest artifacts of each kind from the run's SQLite metadata."""
    store = _store(metadata_path)
    summary = RunSummary()
    for type_name, producer in (
        (IngestionReport.TYPE_NAME, "EventIngestion"),
        ("Examples", "EventIngestion"),
        ("ExampleStatistics", "StatisticsGen"),
        ("Schema", "SchemaGen"),
        ("ExampleAnomalies", "ExampleValidator"),
        ("TransformGraph", "Transform"),
        ("rtrec.ItemCatalog", "EventIngestion"),
        ("rtrec.DeadLetter", "EventIngestion"),
        ("rtrec.TextEmbeddings", "TextEmbedder"),
        ("Model", "RtrecTrainer"),
        ("ModelRun", "RtrecTrainer"),
        ("ModelEvaluation", "Evaluator"),
        ("ModelBlessing", "Evaluator"),
    ):
        artifact = _latest(store, type_name, producer)
        if artifact is not None:
            summary.artifacts[type_name] = artifact.uri
    report_uri = summary.artifacts.get(IngestionReport.TYPE_NAME)
    if report_uri and os.path.exists(os.path.join(report_uri, REPORT_FILE)):
        with open(os.path.join(report_uri, REPORT_FILE), encoding="utf-8") as handle:
            summary.report = json.load(handle)
        summary.report_uri = report_uri
    anomalies_uri = summary.artifacts.get("ExampleAnomalies")
    if anomalies_uri:
        summary.anomalies = _read_anomalies(anomalies_uri)
    drift = _latest(store, "ExampleAnomalies", "DistributionValidator")
    if drift is not None:
        summary.drift = _read_anomalies(drift.uri)
    skew_dir = os.path.join(os.path.dirname(os.path.abspath(metadata_path)), "skew")
    if os.path.isdir(skew_dir):
        summary.skew = _read_anomalies(skew_dir)
    evaluation = summary.artifacts.get("ModelEvaluation")
    if evaluation:
        from components.evaluation.results import load_gate

        summary.gate = load_gate(evaluation, summary.artifacts.get("ModelBlessing"))
    pushed = _latest(store, "PushedModel", "Pusher")
    if pushed is not None and "pushed" in pushed.custom_properties:
        if pushed.custom_properties["pushed"].int_value == 1:
            summary.pushed_to = pushed.custom_properties["pushed_destination"].string_value
    return summary
