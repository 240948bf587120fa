"""Hyperparameters are typed and validated, naming the setting that is wrong."""

from __future__ import annotations

import pytest

from rtrec.hparams import Hyperparameters


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"content_tuning": "everything"}, "content_tuning"),
        ({"content_tuning": "top_layers", "top_layers": 0}, "top_layers"),
        ({"negatives": "some"}, "negatives"),
        ({"visit_pooling": True, "long_term": False}, "visit_pooling"),
        ({"embedding_dim": 10, "num_heads": 3}, "divisible"),
        ({"dropout": 1.0}, "dropout"),
        ({"epoch": 6}, r"unknown hyperparameter\(s\) \['epoch'\]; known: .*'epochs'"),
        ({"epochs": "6x"}, "hparams.epochs must be int, got '6x'"),
        ({"epochs": 2.5}, "hparams.epochs must be int"),
        ({"long_term": "yes"}, "hparams.long_term must be bool"),
        ({"temperature": 0}, "temperature"),
        ({"history_length": 0}, "history_length"),
    ],
)
def test_bad_hyperparameters_are_rejected_naming_the_setting(bad, message):
    with pytest.raises(ValueError, match=message):
        Hyperparameters.from_dict(bad)


def test_hyperparameters_from_dict_accepts_whole_numbers_for_floats():
    hp = Hyperparameters.from_dict({"epochs": 2, "dropout": 0, "long_term": False,
                                    "visit_pooling": False})  # fmt: skip
    assert hp.epochs == 2 and type(hp.dropout) is float and hp.long_term is False
    assert Hyperparameters.from_dict(hp.to_dict()) == hp
