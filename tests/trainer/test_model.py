"""The model learns planted structure, serves cold items by text, and both objectives train."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from tests.trainer.conftest import toy_examples
from trainer import features as fk
from trainer.data import array_dataset
from trainer.interests import max_scores
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
    scores = max_scores(model.user_vectors(batch), model.catalog_vectors()).numpy()
    other_types = [i for i, item in enumerate(toy_catalog.ids) if not item.startswith("novel")]
    assert scores[:, cold_rows].mean() > scores[:, other_types].mean()


def test_in_batch_objective_with_logq_and_ranking_head_trains(toy_catalog, tiny_hp):
    hp = replace(tiny_hp, negatives="in_batch", ranking_weight=0.5, epochs=2, eval_ks=(10,),
                 future_weight=0.0)  # fmt: skip
    model = RtrecModel(toy_catalog, toy_catalog.ids, ["view"], hp)
    arrays = toy_examples(256, seed=7)
    report = fit(model, array_dataset(arrays, 64, True), arrays, hp)
    assert np.all(np.isfinite(report["loss"])) and len(report["eval"]) == 2


def test_future_objective_uses_later_items(toy_catalog, tiny_hp):
    hp = replace(tiny_hp, future_weight=1.0, epochs=1, interests=1)
    model = RtrecModel(toy_catalog, toy_catalog.ids, ["view"], hp)
    arrays = toy_examples(64, seed=8)
    batch = {k: tf.constant(v) for k, v in arrays.items() if k != fk.FUTURE_ITEM_IDS}
    base = float(model.compute_loss(batch))
    future = np.array([[t, "", "no-such-item"] for t in arrays[fk.TARGET_ITEM_ID]])
    with_future = float(model.compute_loss({**batch, fk.FUTURE_ITEM_IDS: tf.constant(future)}))
    # Repeating the target as the only valid future item adds exactly its own NLL again.
    assert with_future == pytest.approx(2 * base, rel=1e-4)


def test_tensorboard_gets_loss_in_batch_and_full_catalog_metrics(toy_catalog, tiny_hp, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    hp = replace(tiny_hp, epochs=2, eval_ks=(10,), interests=1, visit_interests=0)  # one vector
    model = RtrecModel(toy_catalog, toy_catalog.ids, ["view"], hp)
    arrays = toy_examples(256, seed=9)
    report = fit(model, array_dataset(arrays, 64, True), arrays, hp, log_dir=str(tmp_path))
    assert len(report["in_batch"]["in_batch_top10"]) == 2
    assert all(0.0 <= v <= 1.0 for v in report["in_batch"]["in_batch_top10"])

    def tags(folder):
        accumulator = EventAccumulator(str(tmp_path / folder))
        accumulator.Reload()
        return set(accumulator.Tags()["scalars"]) | set(accumulator.Tags()["tensors"])

    assert {"epoch_loss", "epoch_in_batch_top1", "epoch_in_batch_top10"} <= tags("train")
    assert {"all/HR@10", "all/NDCG@10"} <= tags("eval")
    assert (tmp_path / "projector" / "metadata.tsv").exists()


@pytest.mark.parametrize(
    ("exclude_history", "visit_start_weight", "interest_training"),
    [(False, 1.0, "mixture"), (True, 1.0, "mixture"), (False, 3.0, "mixture"),
     (False, 1.0, "best"), (True, 3.0, "best")],
)  # fmt: skip
def test_each_target_trains_the_interests_mixture_or_its_nearest_interest(
    trained, exclude_history, visit_start_weight, interest_training
):
    model, _ = trained
    assert model.interest_count > 1 and model.hp.future_weight > 0
    assert model.hp.interest_training == "mixture"  # the default
    arrays = toy_examples(32, seed=18)
    # Repeats: some users already had their next item, others one of their later items.
    arrays[fk.HISTORY_ITEM_IDS][:4, -1] = arrays[fk.TARGET_ITEM_ID][:4]
    arrays[fk.HISTORY_ITEM_IDS][4:8, -1] = arrays[fk.FUTURE_ITEM_IDS][4:8, 0]
    # Returning users: the last step is two hours before the target, so the target opens a visit.
    arrays[fk.HISTORY_AGES_S][8:16] += 7200.0 * (arrays[fk.HISTORY_AGES_S][8:16] >= 0)
    batch = {k: tf.constant(v) for k, v in arrays.items()}
    shipped = model.hp
    model.hp = replace(
        shipped,
        exclude_history=exclude_history,
        visit_start_weight=visit_start_weight,
        interest_training=interest_training,
    )
    try:
        loss = float(model.compute_loss(batch))
    finally:
        model.hp = shipped
    users = model.user_vectors(batch, blend=False).numpy()
    catalog = model.catalog_vectors().numpy()
    logits = np.einsum("bkd,nd->bkn", users, catalog)
    rows = {item: i for i, item in enumerate(model.catalog.ids)}
    allowed = model.trainable_candidates.numpy()

    def seen(b):
        return {rows[item] for item in arrays[fk.HISTORY_ITEM_IDS][b] if item in rows}

    def nll(b, k, row):
        ok = allowed & ~np.isin(np.arange(len(allowed)), list(seen(b)) if exclude_history else [])
        z = np.where(ok | (np.arange(len(allowed)) == rows[arrays[fk.TARGET_ITEM_ID][b]]),
                     logits[b, k], -1e9) / model.hp.temperature  # fmt: skip
        return np.logaddexp.reduce(z) - z[row]

    def target_nll(b, item):
        if interest_training == "best":  # the interest nearest the target
            return nll(b, int(np.argmax(logits[b, :, rows[item]])), rows[item])
        each = np.array([-nll(b, k, rows[item]) for k in range(users.shape[1])])
        return np.log(len(each)) - np.logaddexp.reduce(each)  # -log mean of probabilities

    def trained_on(b, item):  # with exclude_history, targets the user already had are not
        return item in rows and not (exclude_history and rows[item] in seen(b))

    def weight(b):  # a target that opens a visit (or a first visit) weighs visit_start_weight
        last = arrays[fk.HISTORY_AGES_S][b, -1]
        return visit_start_weight if last >= model.hp.visit_gap_s or last < 0 else 1.0

    def mean(pairs):
        pairs = [(b, item) for b, item in pairs if trained_on(b, item)]
        weights = [weight(b) for b, _ in pairs]
        return np.average([target_nll(b, item) for b, item in pairs], weights=weights)

    n = len(users)
    next_item = mean([(b, arrays[fk.TARGET_ITEM_ID][b]) for b in range(n)])
    future = mean([(b, item) for b in range(n) for item in arrays[fk.FUTURE_ITEM_IDS][b]])
    assert loss == pytest.approx(next_item + model.hp.future_weight * future, rel=1e-3)
