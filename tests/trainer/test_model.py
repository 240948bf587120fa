"""The model learns planted structure, serves cold items by text, and both objectives train."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from rtrec import features as fk
from tests.tiny_model import GAP_S, toy_examples
from trainer.data import array_dataset
from trainer.model import RtrecModel
from trainer.ranking import evaluate_examples, rank_catalog
from trainer.train import fit


def test_training_lowers_the_loss(trained):
    _, report = trained
    assert report["loss"][-1] < report["loss"][0] * 0.9
    assert report["examples_per_second"] is None or report["examples_per_second"] > 0


def test_beats_popularity_on_planted_structure(trained, toy_catalog):
    model, _ = trained
    held_out = toy_examples(300, seed=1)
    metrics = evaluate_examples(model, held_out, (10,))["all"]
    # Popularity: the 10 most trained items (minus history) for everyone.
    popular = np.argsort(-toy_catalog.train_counts, kind="stable")
    hits = 0
    for history, target in zip(held_out[fk.HISTORY_ITEM_IDS], held_out[fk.TARGET_ITEM_ID]):
        ranked = [toy_catalog.ids[i] for i in popular if toy_catalog.ids[i] not in history][:10]
        hits += target in ranked
    assert metrics["HR@10"] > 2 * hits / len(held_out[fk.TARGET_ITEM_ID])
    assert metrics["HR@10"] > 0.5


def test_history_items_are_never_recommended(trained):
    model, _ = trained
    arrays = toy_examples(50, seed=2)
    ranked = rank_catalog(model, arrays, 10)
    for rows, history in zip(ranked, arrays[fk.HISTORY_ITEM_IDS]):
        assert not set(model.catalog.ids[r] for r in rows) & set(history)


def test_cold_item_is_reachable_by_its_text(trained, toy_catalog):
    model, _ = trained
    cold_rows = [toy_catalog.size - 2, toy_catalog.size - 1]  # the last type's untrained items
    arrays = toy_examples(400, seed=6)
    same_type = np.array([row[-1].startswith("novel") for row in arrays[fk.HISTORY_ITEM_IDS]])
    batch = {k: tf.constant(v[same_type]) for k, v in arrays.items()}
    scores = (model.user_vectors(batch) @ tf.transpose(model.catalog_vectors())).numpy()
    other_types = [i for i, item in enumerate(toy_catalog.ids) if not item.startswith("novel")]
    assert scores[:, cold_rows].mean() > scores[:, other_types].mean()


def test_in_batch_objective_with_logq_and_ranking_head_trains(toy_catalog, tiny_hp):
    hp = replace(tiny_hp, negatives="in_batch", ranking_weight=0.5, epochs=2)
    model = RtrecModel(toy_catalog, toy_catalog.ids, ["view"], hp, GAP_S)
    arrays = toy_examples(256, seed=7)
    report = fit(model, array_dataset(arrays, 64, True), arrays, hp, (10,))
    assert np.all(np.isfinite(report["loss"])) and len(report["eval"]) == 2


def test_tensorboard_gets_loss_in_batch_and_full_catalog_metrics(toy_catalog, tiny_hp, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    hp = replace(tiny_hp, epochs=2)
    model = RtrecModel(toy_catalog, toy_catalog.ids, ["view"], hp, GAP_S)
    arrays = toy_examples(256, seed=9)
    report = fit(model, array_dataset(arrays, 64, True), arrays, hp, (10,), str(tmp_path))
    assert len(report["in_batch"]["in_batch_top10"]) == 2
    assert all(0.0 <= v <= 1.0 for v in report["in_batch"]["in_batch_top10"])

    def tags(folder):
        accumulator = EventAccumulator(str(tmp_path / folder))
        accumulator.Reload()
        return set(accumulator.Tags()["scalars"]) | set(accumulator.Tags()["tensors"])

    assert {"epoch_loss", "epoch_in_batch_top1", "epoch_in_batch_top10"} <= tags("train")
    assert {"all/HR@10", "all/NDCG@10"} <= tags("eval")
    assert (tmp_path / "projector" / "metadata.tsv").exists()


def test_the_loss_is_the_softmax_over_trainable_candidates(trained):
    model, _ = trained
    arrays = toy_examples(32, seed=18)
    arrays[fk.TARGET_ITEM_ID][0] = "not-in-the-catalog"  # has nothing to learn: weight 0
    batch = {k: tf.constant(v) for k, v in arrays.items()}
    loss = float(model.compute_loss(batch))
    users = model.user_vectors(batch).numpy()
    logits = users @ model.catalog_vectors().numpy().T / model.hp.temperature
    rows = {item: i for i, item in enumerate(model.catalog.ids)}
    allowed = model.trainable_candidates.numpy()
    nlls = []
    for b, target in enumerate(arrays[fk.TARGET_ITEM_ID]):
        if target not in rows:
            continue
        # Untrained items are no negatives (cold start), but a target is always a candidate.
        ok = allowed | (np.arange(len(allowed)) == rows[target])
        z = np.where(ok, logits[b], -np.inf)
        nlls.append(np.logaddexp.reduce(z[ok]) - z[rows[target]])
    assert loss == pytest.approx(np.mean(nlls), rel=1e-4)
