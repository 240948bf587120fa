"""Invariants of the feature keys and hyperparameters."""

from __future__ import annotations

import pytest

from trainer import features as fk
from trainer.hparams import Hyperparameters


def test_feature_keys_are_unique_and_spec_covers_them():
    groups = (
        fk.BYTES_SEQUENCES + fk.FUTURE_SEQUENCES + fk.FLOAT_SEQUENCES + fk.INT_SEQUENCES
        + fk.BYTES_SCALARS + fk.FLOAT_SCALARS + fk.INT_SCALARS
    )  # fmt: skip
    assert len(groups) == len(set(groups))
    spec = fk.raw_feature_spec(7)
    assert set(spec) == set(groups)
    assert spec[fk.HISTORY_ITEM_IDS].shape == [7] and spec[fk.TARGET_ITEM_ID].shape == []


def test_transformed_names_and_recency_boundaries():
    assert fk.TARGET_ITEM_IDX_XF == "target_item_id_xf"
    bounds = fk.RECENCY_BOUNDARIES_S
    assert list(bounds) == sorted(bounds) and bounds[0] > 0


@pytest.mark.parametrize(
    "bad",
    [
        {"content_tuning": "everything"},
        {"content_tuning": "top_layers", "top_layers": 0},
        {"negatives": "some"},
        {"interests": 0},
        {"interests": 9},
        {"visit_interests": -1},
        {"visit_interests": 9},
        {"interest_training": "all"},
        {"history_blend": -0.1},
        {"visit_start_weight": 0.0},
        {"negatives": "in_batch", "future_weight": 1.0},
        {"negatives": "in_batch", "exclude_history": True},
        {"negatives": "in_batch", "visit_start_weight": 2.0},
        {"visit_pooling": True, "long_term": False},
        {"embedding_dim": 10, "num_heads": 3},
        {"dropout": 1.0},
        {"not_a_knob": 1},
    ],
)
def test_bad_hyperparameters_are_rejected(bad):
    with pytest.raises(ValueError):
        Hyperparameters.from_dict(bad)


def test_hyperparameters_from_dict():
    hp = Hyperparameters.from_dict({"epochs": 2, "eval_ks": [5]})
    assert hp.epochs == 2 and hp.eval_ks == (5,)
    # Whole numbers for float knobs (JSON, --rtrec-set visit_start_weight=4) become floats.
    hp = Hyperparameters.from_dict({"visit_start_weight": 4, "dropout": 0, "time_gaps": True})
    assert type(hp.visit_start_weight) is float and type(hp.dropout) is float
    assert hp.time_gaps is True
