"""The run config: typed sections, overrides that merge, and precise errors on bad settings."""

from __future__ import annotations

import json

import pytest

from rtrec import config as config_lib
from rtrec.hparams import Hyperparameters


def test_overrides_set_typed_values_and_mappings_merge():
    cfg = config_lib.load(
        None,
        ["trainer.hparams.encoder=tiny", "trainer.hparams={epochs: 2, dropout: 0}",
         "ingestion.session_gap_s=600", "ingestion.now=2025-07-01T00:00:00Z"],
    )  # fmt: skip
    assert isinstance(cfg.trainer.hparams, Hyperparameters)
    assert cfg.trainer.hparams.encoder == "tiny" and cfg.trainer.hparams.epochs == 2
    assert cfg.trainer.hparams.dropout == 0.0 and cfg.ingestion.session_gap_s == 600
    assert cfg.ingestion.now == "2025-07-01T00:00:00Z"  # times stay strings


def test_a_saved_config_loads_back_identically(tmp_path):
    cfg = config_lib.load(None, ["trainer.hparams.epochs=3", "evaluation.ks=[5, 10]"])
    path = tmp_path / "run.json"
    path.write_text(json.dumps(cfg.to_dict()))
    assert config_lib.load(str(path)) == cfg


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.hparams.epoch=6", r"config.trainer.hparams: unknown hyperparameter\(s\)"),
        ("trainer.hparams.epochs=6.5", "config.trainer.hparams.epochs must be int"),
        ("ingestion.gap=1", r"config.ingestion: unknown setting\(s\) \['gap'\]"),
        ("trainer.hparams=7", "config.trainer.hparams must be a mapping"),
        ("epochs", "must look like section.field=value"),
        ("trainer.hparams.epochs=[1", "not valid YAML"),
        ("events.x=1", r"config.events must be str, got \{.x.: 1\}"),
        ("evaluation.ks=[10, ten]", r"config.evaluation.ks\[1\] must be int"),
    ],
)
def test_bad_settings_are_refused_naming_them(override, message):
    with pytest.raises(ValueError, match=message):
        config_lib.load(None, [override])


def test_the_gateway_section_loads_with_arms_and_the_tombstone_setting():
    cfg = config_lib.load(
        None,
        ["gateway.arms=[{name: control, label: stable, share: 0.9}, "
         "{name: canary, label: canary, share: 0.1}]", "gateway.port=9000",
         "ingestion.tombstones=outputs/gateway/events/tombstones.jsonl"],
    )  # fmt: skip
    assert cfg.gateway.arms[1] == {"name": "canary", "label": "canary", "share": 0.1}
    assert cfg.gateway.port == 9000 and cfg.ingestion.tombstones.endswith("tombstones.jsonl")
    with pytest.raises(ValueError, match="config.gateway.max_batch_events must be int"):
        config_lib.load(None, ["gateway.max_batch_events=many"])
