"""One configuration object for a run: paths and every pipeline parameter, from file and flags.

A run is described by :class:`RtrecConfig`; it loads from YAML or JSON and any field can be
overridden with ``section.field=value`` strings (the CLI's ``--set``). Nothing here reads the
environment or a global path at import time; runners resolve paths when they run.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rtrec import contract as c
from rtrec.beam_config import BeamConfig, beam_args
from rtrec.hparams import Hyperparameters
from rtrec.typed import build

DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    c.VIEW: 0.25,
    c.CLICK: 0.5,
    c.ADD_TO_CART: 0.75,
    c.PURCHASE: 1.0,
    c.RATE: 1.0,
    c.SEARCH: 0.0,
}


# Inactivity that ends a visit (a session), shared by ingestion, the benchmark and the trainer.
SESSION_GAP_S = 1800


# What the default ``beam`` section produces: the DirectRunner, named (Beam >= 2.68 otherwise
# tries Prism, which downloads a binary), in one process. For tests and benchmarks.
LOCAL_BEAM_ARGS: tuple[str, ...] = tuple(beam_args(BeamConfig()))


@dataclass
class IngestionConfig:
    """How raw events become training examples (see components/ingestion)."""

    session_gap_s: int = SESSION_GAP_S
    """Inactivity that starts a new session (a change of input session_id does too); the model's
    visit cells and the gateway's sessions use the same gap. (How many past interactions an
    example keeps is the model's ``trainer.hparams.history_length``.)"""
    bot_max_events_per_minute: int = 120
    """A user with more events than this inside any 60-second window is a bot: all dropped."""
    max_clock_skew_s: int = 3600
    """Events up to this far after `now` are clamped to `now`; later ones are rejected."""
    now: str | None = None
    """Reference time (ISO-8601) for future-timestamp checks; None means the wall clock."""
    eval_fraction: float = 0.1
    """Share of interactions (by time) whose targets form the eval split."""
    eval_cutoff: str | None = None
    """Explicit ISO-8601 cutoff; overrides eval_fraction."""
    event_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    """Weight of each event type; a target's weight is the strongest event of its interaction."""
    pseudonym_key_env: str = "RTREC_PSEUDONYM_KEY"
    """Environment variable holding the user-id hashing key (never stored in metadata)."""
    max_text_chars: int = c.MAX_TEXT_CHARS
    """Item text and queries longer than this are truncated (and counted)."""
    tombstones: str = ""
    """Tombstone file(s) of forgotten users (JSON Lines of ``{"user_key": pseudonym}``, written
    by the gateway's ``DELETE /v1/users/{id}`` to ``<gateway.event_log>/tombstones.jsonl``; a
    glob for several): every event of those users is dropped from every span and split (counted
    as ``forgotten_events``). A missing file means none yet; '' reads none."""


@dataclass
class TransformConfig:
    """tf.Transform settings (trainer/preprocessing.py: Transform computes the vocabularies)."""

    item_min_frequency: int = 1
    """Items with fewer training interactions get no id embedding (they are served by text)."""


@dataclass
class DriftConfig:
    """Drift between spans: this run's training data against the previous run's (TFX
    DistributionValidator), for continuous training; anomalies show in `rtrec inspect`."""

    enabled: bool = False
    """Compare with the previous run's statistics (``rtrec retrain`` turns it on from the second
    cycle, once a run in its folder left statistics)."""
    item_linf: float = 0.02
    """Largest allowed L-infinity distance between the target-item distributions (the biggest
    change of any one item's share of the targets)."""
    category_js: float = 0.05
    """Largest allowed Jensen-Shannon divergence between the target-category distributions."""
    skew_linf: float = 0.1
    """Training/serving skew (``rtrec skew``): largest allowed L-infinity distance between the
    history item ids (and event types) the gateway served and those the model trained on."""


@dataclass
class TrainerConfig:
    """Training: the model's typed hyperparameters and the text-vector cache."""

    hparams: Hyperparameters = field(default_factory=Hyperparameters)
    """Every model and training knob (rtrec/hparams.py), validated when the config loads:
    ``--set trainer.hparams.epochs=6``. The text encoder is ``hparams.encoder``."""
    embedding_cache_dir: str = "outputs/embedding_cache"
    """Text vectors cached by text hash across runs ('' disables the cache)."""
    warm_start: bool = False
    """Start from the latest blessed model's weights (known items keep their embeddings, new
    ones get rows; a changed architecture starts cold, with a warning). ``rtrec retrain``
    turns it on."""


@dataclass
class EvaluationConfig:
    """The blessing gate (components/evaluation) and where blessed models are pushed."""

    ks: list[int] = field(default_factory=lambda: [10, 50])
    """Cut-offs K of the evaluation metrics (recall@K, NDCG@K, ...), in the gate and in the
    trainer's per-epoch evaluation."""
    min_values: dict[str, float] = field(
        default_factory=lambda: {"recall@10": 0.08, "F1@10": 0.014}
    )
    """Lower bounds on the whole eval split."""
    min_cold_values: dict[str, float] = field(default_factory=lambda: {"recall@10": 0.01})
    """Lower bounds on the cold-item slice (targets unseen in training)."""
    max_relative_regression: float = 0.05
    """Largest allowed relative drop against the latest blessed model (skipped on a first run)."""
    regression_metrics: list[str] = field(default_factory=lambda: ["recall@10", "NDCG@10", "F1@10"])
    """Metrics bounded by max_relative_regression against the latest blessed model."""
    serving_root: str = ""
    """Where blessed models are pushed, as <serving_root>/<model_name>/<version>; '' means
    <output_dir>/serving, beside the run that produced them (not the current directory)."""
    model_name: str = "rtrec"
    """The served model's name (TF Serving's model name; the push folder)."""
    infra_validation: str = ""
    """'' (off), 'docker' or 'kubernetes': load the model in TF Serving before pushing."""
    serving_image_tag: str = "2.16.1"
    """tensorflow/serving image tag for infra validation; '2.16.1-gpu' for GPU serving."""


@dataclass
class GatewayConfig:
    """The real-time gateway (serving/gateway): where it listens, what it talks to, its limits.

    The rules it shares with training (pseudonym key, session gap, event weights, clock skew,
    bot rate, text limits) are read from ``ingestion`` and the history length from
    ``trainer.hparams``: one home per setting.
    """

    model_url: str = "http://127.0.0.1:8501"
    """TF Serving's (or ``rtrec serve-model``'s) REST address."""
    model_name: str = "rtrec"
    """The model's name on the model server (``--model_name`` / ``models.config``)."""
    model_timeout_s: float = 2.0
    """Timeout of one model-server call; a server that does not answer makes a 503."""
    store: str = "sqlite:///outputs/gateway/gateway.db"
    """Online store: ``sqlite:///PATH`` (one host) or ``redis://HOST:PORT/DB`` (replicas)."""
    event_log: str = "outputs/gateway/events"
    """Folder of the durable logs in the input contract: ``events/span=<UTC day>/``,
    ``items/span=<UTC day>/`` and ``tombstones.jsonl``, for the next pipeline run."""
    host: str = "127.0.0.1"
    """Interface the gateway listens on (``0.0.0.0`` in a container)."""
    port: int = 8000
    """The gateway's HTTP port."""
    token_env: str = "RTREC_GATEWAY_TOKEN"
    """Environment variable with the bearer token that write endpoints require."""
    experiment: str = "default"
    """Name of the A/B experiment (reports); with ``salt`` and ``arms``."""
    salt: str = "rtrec-default"
    """Salt of the arm assignment: a new experiment needs a new salt (it reshuffles users)."""
    arms: list[dict[str, Any]] = field(default_factory=list)
    """``[{name, label, share}]``: each arm queries a TF Serving version label; shares sum to
    1. Empty: one arm, ``default``, on the newest available version (label ``@latest``)."""
    version_cache_s: float = 5.0
    """How long a label's resolved version is reused before the status API is asked again."""
    max_batch_events: int = 1000
    """Largest ``POST /v1/events`` batch; a longer one is refused whole (422)."""
    max_batch_items: int = 100
    """Largest ``POST /v1/items`` batch (each item is embedded by the model server)."""
    max_body_bytes: int = 1_048_576
    """Larger request bodies are refused with 413 before they are read."""


@dataclass
class RtrecConfig:
    """Everything a pipeline run needs: inputs, outputs, and each component's settings."""

    events: str = ""
    """Events: a file, a folder (searched recursively) or a glob of CSV / JSONL / Parquet files in
    the input contract."""
    items: str = ""
    """The item catalog: a file, folder or glob, like events."""
    output_dir: str = "outputs/run"
    """Where the run's artifacts, ML Metadata store, report and (by default) pushed models go."""
    pipeline_name: str = "rtrec"
    """The TFX pipeline's name (in ML Metadata and on Kubeflow)."""
    stop_after: str = "pusher"
    """Last component to run (see pipeline.pipeline.STAGES)."""
    ingestion: IngestionConfig = field(default_factory=IngestionConfig)
    transform: TransformConfig = field(default_factory=TransformConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    beam: BeamConfig = field(default_factory=BeamConfig)
    """The Beam runner of every pipeline step (rtrec/beam_config.py)."""

    # os.path.join, not Path: Path("gs://b/run") collapses the "//" of a storage URI.
    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_dir, "pipeline")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_dir, "metadata.sqlite")

    @property
    def push_directory(self) -> str:
        """The Pusher's folder: TF Serving's model base path (versions are its subfolders)."""
        root = self.evaluation.serving_root or os.path.join(self.output_dir, "serving")
        return os.path.join(root, self.evaluation.model_name)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SECTIONS = {
    (RtrecConfig, "ingestion"): IngestionConfig,
    (RtrecConfig, "transform"): TransformConfig,
    (RtrecConfig, "trainer"): TrainerConfig,
    (RtrecConfig, "evaluation"): EvaluationConfig,
    (RtrecConfig, "drift"): DriftConfig,
    (RtrecConfig, "gateway"): GatewayConfig,
    (RtrecConfig, "beam"): BeamConfig,
    (TrainerConfig, "hparams"): Hyperparameters,
}


def from_dict(values: dict[str, Any]) -> RtrecConfig:
    """Build a config from nested dicts, rejecting unknown keys (typos fail loudly)."""
    if "beam_args" in values:
        raise ValueError(
            "config.beam_args was replaced by the typed beam section: beam.runner "
            "(direct, dataflow, flink, spark), beam.workers, the runner's settings, and "
            "beam.extra_args for any other flag (rtrec/beam_config.py)"
        )
    return build(RtrecConfig, values, "config", _SECTIONS)


def load(path: str | None = None, overrides: list[str] | tuple[str, ...] = ()) -> RtrecConfig:
    """Load ``path`` (YAML or JSON; None for defaults) and apply ``section.field=value`` overrides.

    Override values are parsed as YAML, so ``ingestion.session_gap_s=600`` is an int and
    ``ingestion.now=null`` is None. A mapping merges into what is already set
    (``trainer.hparams={epochs: 2}`` changes only ``epochs``).
    """
    values: dict[str, Any] = {}
    if path:
        text = Path(path).read_text(encoding="utf-8")
        values = (json.loads(text) if path.endswith(".json") else yaml.safe_load(text)) or {}
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like section.field=value")
        key, raw = item.split("=", 1)
        target = values
        parts = key.strip().split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ValueError(f"override {item!r}: {part} is a setting, not a section")
        try:
            parsed = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            raise ValueError(f"override {item!r}: the value is not valid YAML ({err})") from err
        # Times stay ISO-8601 strings (YAML would turn them into datetime objects).
        is_time = isinstance(parsed, (datetime.date, datetime.datetime))
        _merge(target, parts[-1], raw if is_time else parsed)
    return from_dict(values)


def _merge(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``target[key]``; a mapping merges into a mapping already there, key by key."""
    if isinstance(value, dict) and isinstance(target.get(key), dict):
        for name, inner in value.items():
            _merge(target[key], name, inner)
    else:
        target[key] = value
