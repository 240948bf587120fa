"""Training/serving skew: the histories the gateway sent the model against those it trained on.

The gateway logs the model inputs of every recommendation request (``<event_log>/requests/``,
JSON lines: the history item ids, event types and timestamps, no user key). This module turns
them into TFDV statistics and validates them against the run's training statistics with TFDV's
skew comparators (L-infinity distance on the categorical history features), so the same
library that checks drift between spans checks what serving sees. A large distance means the
served histories are not what the model learned from: a new client that sends other event
types, a catalog the model has not seen, or a history-building bug in one of the two paths.
The result lands in ``<output_dir>/skew/`` as TFDV ``Anomalies`` (read by `rtrec inspect` and
the report) plus a JSON summary of the distances.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable

from rtrec import features as fk

SKEW_DIR = "skew"
SUMMARY_FILE = "skew.json"
FEATURES = (fk.HISTORY_ITEM_IDS, fk.HISTORY_EVENT_TYPES)
"""The categorical history inputs compared (their value distributions)."""


def read_requests(pattern: str) -> list[dict]:
    """Logged requests from a folder (searched recursively), a file or a glob of JSONL files."""
    if os.path.isdir(pattern):
        paths = sorted(glob.glob(os.path.join(pattern, "**", "*.jsonl"), recursive=True))
    else:
        paths = sorted(glob.glob(pattern))
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError:  # a line cut by a crash (the log is not fsynced)
                    if line.endswith("\n"):
                        raise ValueError(f"{path} line {number} is not JSON") from None
    if not rows:
        raise ValueError(f"no logged requests under {pattern} (the gateway writes them to "
                         "<gateway.event_log>/requests/)")  # fmt: skip
    return rows


def serving_statistics(rows: Iterable[dict]):
    """TFDV statistics of the logged histories (pads dropped), as training's are computed."""
    import pyarrow as pa
    from tensorflow_data_validation.statistics.stats_impl import generate_statistics_in_memory

    columns = {
        name: [[v.encode() for v in row.get(name, []) if v != fk.PAD_ITEM] for row in rows]
        for name in FEATURES
    }
    batch = pa.RecordBatch.from_arrays(
        [pa.array(columns[name], type=pa.list_(pa.binary())) for name in FEATURES], FEATURES
    )
    return generate_statistics_in_memory(batch)


def _only(stats, names: tuple[str, ...]):
    """A copy of ``stats`` with only the features ``names``."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    out = statistics_pb2.DatasetFeatureStatisticsList()
    out.CopyFrom(stats)
    for dataset in out.datasets:
        kept = [f for f in dataset.features if f.path.step and f.path.step[0] in names]
        del dataset.features[:]
        dataset.features.extend(kept)
    return out


def check_skew(train_stats_uri: str, schema_uri: str, rows: list[dict], threshold: float,
               out_dir: str) -> dict:  # fmt: skip
    """Compare served histories with the training split; write anomalies and a summary."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2

    train = _only(tfdv.load_stats_binary(os.path.join(train_stats_uri, "Split-train",
                                                      "FeatureStats.pb")), FEATURES)  # fmt: skip
    schema = tfdv.load_schema_text(os.path.join(schema_uri, "schema.pbtxt"))
    kept = schema_pb2.Schema()
    kept.CopyFrom(schema)
    del kept.feature[:]
    kept.feature.extend(f for f in schema.feature if f.name in FEATURES)
    for feature in kept.feature:
        feature.skew_comparator.infinity_norm.threshold = threshold
    serving = serving_statistics(rows)
    anomalies = tfdv.validate_statistics(train, kept, serving_statistics=serving)
    split_dir = os.path.join(out_dir, "Split-serving")
    os.makedirs(split_dir, exist_ok=True)
    with open(os.path.join(split_dir, "SchemaDiff.pb"), "wb") as handle:
        handle.write(anomalies.SerializeToString())
    summary = {
        "requests": len(rows),
        "threshold": threshold,
        "distances": {
            info.path.step[0]: round(m.value, 4)
            for info in anomalies.drift_skew_info
            for m in info.skew_measurements
        },
        "anomalies": {
            name: info.description for name, info in sorted(anomalies.anomaly_info.items())
        },
    }
    with open(os.path.join(out_dir, SUMMARY_FILE), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    return summary
