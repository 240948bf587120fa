"""Tiny planted data, a tiny trained model and its export: a pytest plugin (tests/conftest.py)
shared by the trainer, serving and gateway tests, so the model trains once per session."""

from __future__ import annotations

import numpy as np
import pytest

from rtrec import features as fk
from rtrec.hparams import Hyperparameters
from trainer.bert import BertTextEncoder, EncoderSpec
from trainer.catalog import Catalog
from trainer.data import array_dataset
from trainer.model import RtrecModel
from trainer.train import fit

N_TYPES, PER_TYPE, LENGTH = 4, 10, 5
GAP_S = 1800.0  # the ingestion's session gap (what ends a visit)
TYPES = ["lamp", "kettle", "tent", "novel"]
BRANDS = ["acme", "zenith", "orbit", "nova", "delta"]  # a word of each text, across types


def item_id(t: int, j: int) -> str:
    return f"{TYPES[t]}-{j}"


def toy_examples(n: int, seed: int) -> dict[str, np.ndarray]:
    """Histories of one product type; the target and the later items are others of that type."""
    rng = np.random.default_rng(seed)
    ids, types, ages, targets, keys = [], [], [], [], []
    for i in range(n):
        t = int(rng.integers(N_TYPES))
        length = int(rng.integers(1, LENGTH + 1))
        picks = rng.choice(PER_TYPE, size=length + 1, replace=False)
        history = [item_id(t, int(j)) for j in picks[:length]]
        ids.append([""] * (LENGTH - length) + history)
        types.append([""] * (LENGTH - length) + ["view"] * length)
        ages.append([-1.0] * (LENGTH - length) + list(np.linspace(600, 60, length)))
        targets.append(item_id(t, int(picks[length])))
        keys.append(f"user{i % 50}")
    return {
        fk.USER_KEY: np.array(keys),
        fk.HISTORY_ITEM_IDS: np.array(ids),
        fk.HISTORY_EVENT_TYPES: np.array(types),
        fk.HISTORY_AGES_S: np.array(ages, np.float32),
        fk.QUERY: np.array([""] * n),
        fk.TARGET_ITEM_ID: np.array(targets),
        fk.TARGET_WEIGHT: np.ones(n, np.float32),
        fk.TARGET_UNSEEN_IN_TRAIN: np.zeros(n, np.int64),
        fk.HISTORY_LENGTH: np.array([sum(1 for x in row if x) for row in ids], np.int64),
    }


def make_encoder() -> BertTextEncoder:
    return BertTextEncoder(EncoderSpec("tiny", max_tokens=16))


def make_catalog(encoder: BertTextEncoder) -> Catalog:
    """Four product types of ten items; texts "<brand> <type> model <j>"."""
    ids = [item_id(t, j) for t in range(N_TYPES) for j in range(PER_TYPE)]
    texts = [
        f"{BRANDS[j % len(BRANDS)]} {TYPES[t]} model {j}"
        for t in range(N_TYPES)
        for j in range(PER_TYPE)
    ]
    content = encoder(np.array(texts)).numpy()
    counts = np.arange(len(ids)) % 7
    groups = ["Home", "Home", "Leisure", "Leisure"]
    categories = [(groups[t], TYPES[t]) for t in range(N_TYPES) for _ in range(PER_TYPE)]
    categories[-1] = ()  # one uncategorised item
    return Catalog(ids, texts, texts, counts, content, categories)


def make_hparams() -> Hyperparameters:
    return Hyperparameters(
        embedding_dim=16, history_length=LENGTH, num_heads=2, batch_size=64, epochs=6,
        learning_rate=0.01, user_id_buckets=64, encoder="tiny", max_tokens=16,
        category_affinity=True, word_affinity=True,
    )  # fmt: skip


def train_model(toy_catalog: Catalog, tiny_hp: Hyperparameters) -> tuple[RtrecModel, dict]:
    """The tiny model trained on planted histories (the last two items never trained on)."""
    vocab = toy_catalog.ids[:-2]  # the last two items are never trained on: cold items
    model = RtrecModel(toy_catalog, vocab, ["click", "view"], tiny_hp, GAP_S)
    train = toy_examples(2000, seed=0)
    keep = ~np.isin(train[fk.TARGET_ITEM_ID], toy_catalog.ids[-2:])
    train = {k: v[keep] for k, v in train.items()}
    report = fit(model, array_dataset(train, tiny_hp.batch_size, True), None, tiny_hp)
    return model, report


@pytest.fixture(scope="session")
def encoder() -> BertTextEncoder:
    return make_encoder()


@pytest.fixture(scope="session")
def toy_catalog(encoder) -> Catalog:
    return make_catalog(encoder)


@pytest.fixture(scope="session")
def tiny_hp() -> Hyperparameters:
    return make_hparams()


@pytest.fixture(scope="session")
def trained(toy_catalog, tiny_hp) -> tuple[RtrecModel, dict]:
    return train_model(toy_catalog, tiny_hp)


@pytest.fixture(scope="session")
def exported(trained, encoder, tmp_path_factory) -> tuple:
    """The trained tiny model exported as version 1 of a TF Serving base path:
    (model, loaded SavedModel, version folder)."""
    import tensorflow as tf

    from trainer.signatures import export

    model, _ = trained
    path = str(tmp_path_factory.mktemp("models") / "rtrec" / "1")
    export(model, encoder, path)
    return model, tf.saved_model.load(path), path
