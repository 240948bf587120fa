"""The EventIngestion TFX component: raw events + catalog files in, Examples and reports out.

A Python-function component with ``use_beam=True``: TFX hands it the Beam pipeline built from
the pipeline's ``beam_pipeline_args``, so the same graph runs on the DirectRunner locally and on
Dataflow or Flink in production. Inputs are checked before the graph is built, so a file whose
header lacks a required column fails with its name and writes nothing.
"""

# No `from __future__ import annotations`: TFX reads the real annotation objects.
import json
import os
import time
from datetime import datetime, timezone
from typing import Optional

import apache_beam as beam
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_artifacts
from tfx.v1.dsl.components import (
    BeamComponentParameter,
    OutputArtifact,
    Parameter,
    component,
)

from components.artifacts import DeadLetter, IngestionReport, ItemCatalog
from components.ingestion import beam_pipeline, steps
from components.ingestion.report import (
    REPORT_FILE,
    build_report,
    check_reconciled,
    check_trainable,
)
from components.ingestion.sources import check_inputs
from rtrec import contract as c
from rtrec.config import IngestionConfig
from rtrec.timeline import pseudonym_key
from rtrec.tombstones import read_tombstones
from rtrec.validation import parse_timestamp

SPLITS = ("train", "eval")
CATALOG_DIR = "catalog"


def _time(text: Optional[str], default: Optional[float]) -> Optional[float]:  # noqa: UP045
    if text is None:
        return default
    value = parse_timestamp(text)
    if value is None:
        raise ValueError(f"time {text!r} is neither Unix seconds nor ISO-8601")
    return value


def resolve_params(
    events: str, items: str, cfg: IngestionConfig, history_length: int
) -> steps.IngestionParams:
    """Check the inputs and resolve everything the Beam graph needs (raises on bad input).
    ``history_length`` is the model's (``trainer.hparams.history_length``): examples are
    padded to it."""
    return steps.IngestionParams(
        event_files=tuple(check_inputs(events, c.EVENT_REQUIRED_COLUMNS, "events")),
        item_files=tuple(check_inputs(items, c.ITEM_REQUIRED_COLUMNS, "items")),
        key=pseudonym_key(cfg.pseudonym_key_env),
        now=_time(cfg.now, time.time()),
        max_clock_skew_s=float(cfg.max_clock_skew_s),
        max_text_chars=cfg.max_text_chars,
        bot_max_events_per_minute=cfg.bot_max_events_per_minute,
        session_gap_s=float(cfg.session_gap_s),
        history_length=history_length,
        event_weights=tuple(sorted(cfg.event_weights.items())),
        eval_fraction=cfg.eval_fraction,
        eval_cutoff=_time(cfg.eval_cutoff, None),
        forgotten=read_tombstones(cfg.tombstones),
    )


def output_paths(examples_uri: str, catalog_uri: str, dead_uri: str, report_uri: str):
    """Where each output goes inside the artifact URIs (TFX's Split-<name> layout)."""
    return beam_pipeline.OutputPaths(
        train_prefix=os.path.join(examples_uri, "Split-train", "data_tfrecord"),
        eval_prefix=os.path.join(examples_uri, "Split-eval", "data_tfrecord"),
        catalog_prefix=os.path.join(catalog_uri, CATALOG_DIR, "items_tfrecord"),
        dead_letter_prefix=os.path.join(dead_uri, "dead_letter"),
        counts_path=os.path.join(report_uri, "counts.json"),
        cutoff_path=os.path.join(report_uri, "cutoff.json"),
    )


def finish_report(paths: beam_pipeline.OutputPaths, report_uri: str) -> dict:
    """Assemble, check and write the report once the Beam graph has run."""
    with open(paths.counts_path, encoding="utf-8") as handle:
        counts = json.loads(handle.read() or "{}")
    with open(paths.cutoff_path, encoding="utf-8") as handle:
        cutoff = json.loads(handle.read() or "{}").get("cutoff")
    report = build_report(counts, cutoff)
    report["eval_cutoff_iso"] = (
        datetime.fromtimestamp(cutoff, tz=timezone.utc).isoformat()
        if cutoff not in (None, float("inf"))
        else None
    )
    check_reconciled(report)
    with open(os.path.join(report_uri, REPORT_FILE), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    return report


def run_ingestion(
    events: str,
    items: str,
    cfg: IngestionConfig,
    history_length: int,
    pipeline: beam.Pipeline,
    examples_uri: str,
    catalog_uri: str,
    dead_letter_uri: str,
    report_uri: str,
) -> dict:
    """Check inputs, run the Beam graph on ``pipeline`` and return the reconciled report.

    Raises :class:`NothingToTrainError` (after writing the report) when no training example
    came out, so the run stops at ingestion with the counts that say why.

    The TFX component calls this with TFX's pipeline; tests call it with a plain DirectRunner
    pipeline, so the graph is tested without the orchestrator.
    """
    params = resolve_params(events, items, cfg, history_length)
    paths = output_paths(examples_uri, catalog_uri, dead_letter_uri, report_uri)
    for uri in (examples_uri, catalog_uri, dead_letter_uri, report_uri):
        os.makedirs(uri, exist_ok=True)
    with pipeline as p:
        beam_pipeline.build(p, params, paths)
    report = finish_report(paths, report_uri)
    check_trainable(report, dead_letter_uri, report_uri)
    return report


@component(use_beam=True)
def EventIngestion(  # noqa: N802  (TFX components are named like classes)
    events: Parameter[str],
    items: Parameter[str],
    ingestion_config: Parameter[str],
    history_length: Parameter[int],
    examples: OutputArtifact[standard_artifacts.Examples],
    item_catalog: OutputArtifact[ItemCatalog],
    ingestion_report: OutputArtifact[IngestionReport],
    dead_letter: OutputArtifact[DeadLetter],
    beam_pipeline_param: BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """Validate, clean, sessionize and split raw events into next-item tf.Examples.

    ``ingestion_config`` is :class:`rtrec.config.IngestionConfig` as JSON; histories are padded
    to ``history_length`` (the model's). Outputs: Examples
    with 'train' and 'eval' splits, the item catalog, the reconciled report, the dead letters.
    """
    cfg = IngestionConfig(**json.loads(ingestion_config))
    report = run_ingestion(
        events,
        items,
        cfg,
        history_length,
        beam_pipeline_param,
        examples.uri,
        item_catalog.uri,
        dead_letter.uri,
        ingestion_report.uri,
    )
    examples.split_names = artifact_utils.encode_split_names(list(SPLITS))
    examples_utils.set_file_format(examples, "tfrecords_gzip")
    examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
    for side in ("events", "items"):
        for key in ("rows_in", "accepted", "rejected_total", "duplicates_removed"):
            ingestion_report.set_int_custom_property(f"{side}_{key}", report[side][key])
    for key in ("train_examples", "eval_examples", "users"):
        ingestion_report.set_int_custom_property(key, report["output"][key])
    dead_letter.set_int_custom_property("rows", report["events"]["rejected_total"])
