"""Invariants of the feature contract: unique keys, a parsing spec that covers them."""

from __future__ import annotations

from rtrec import features as fk


def test_feature_keys_are_unique_and_spec_covers_them():
    groups = (
        fk.BYTES_SEQUENCES + fk.FLOAT_SEQUENCES + fk.INT_SEQUENCES
        + fk.BYTES_SCALARS + fk.FLOAT_SCALARS + fk.INT_SCALARS
    )  # fmt: skip
    assert len(groups) == len(set(groups))
    spec = fk.raw_feature_spec(7)
    assert set(spec) == set(groups)
    assert spec[fk.HISTORY_ITEM_IDS].shape == [7] and spec[fk.TARGET_ITEM_ID].shape == []
    assert set(fk.USER_FEATURES + fk.LABELS) <= set(groups)


def test_recency_boundaries_are_increasing():
    bounds = fk.RECENCY_BOUNDARIES_S
    assert list(bounds) == sorted(bounds) and bounds[0] > 0


def test_item_text_joins_title_categories_and_description():
    from rtrec.contract import item_text

    assert item_text("Lumio  X2", ("Phones", "Android"), "A phone.") == (
        "Lumio X2. Phones / Android. A phone."
    )
    assert item_text("Lumio X2", ()) == "Lumio X2"
