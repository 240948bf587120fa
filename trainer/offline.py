"""rtrec as a quality-benchmark model: trains on a benchmark split without TFX, scores cases.

The benchmark gives every model the same split (``rtrec.evaluation.protocols``); this adapter
turns the split's training events into the same next-item examples the pipeline makes (through
``rtrec.timeline``) and trains the same model, so its numbers are the product's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from rtrec import contract as c
from rtrec import features as fk
from rtrec import timeline
from rtrec.config import DEFAULT_EVENT_WEIGHTS, SESSION_GAP_S
from rtrec.evaluation.content import item_texts
from rtrec.evaluation.protocols import EvalCase, TrainData
from rtrec.hparams import Hyperparameters
from rtrec.timeline import Event
from trainer import inputs
from trainer.catalog import Catalog
from trainer.data import array_dataset, arrays_from_examples
from trainer.model import RtrecModel
from trainer.train import fit


def _examples_from_events(train: TrainData, hp: Hyperparameters) -> list[dict]:
    events = train.events.sort_values(["user", "timestamp", "order"], kind="stable")
    item_ids = train.log.item_ids
    examples: list[dict] = []
    for user, frame in events.groupby("user", sort=True):
        events_of_user = [
            Event(str(user), item_ids[item], etype, float(ts), None, "", "", (0, int(order)))
            for item, etype, ts, order in zip(
                frame["item"], frame["event_type"], frame["timestamp"], frame["order"]
            )
        ]
        steps = timeline.steps_of(events_of_user, SESSION_GAP_S, DEFAULT_EVENT_WEIGHTS)
        for _, features in timeline.build_examples(
            str(user), steps, hp.history_length, np.inf, frozenset()
        ):
            examples.append(features)
    return examples


def case_features(cases: Sequence[EvalCase], item_ids: Sequence[str], length: int) -> dict:
    """History features of benchmark cases, built by the same rules as training histories.

    Events go through ``rtrec.timeline`` (sessions, funnels collapsed into
    interactions), so a case's history looks exactly like a training example's. Ages are
    relative to the case's ``request_time`` when the protocol sets one (``temporal``: the cut,
    so a user idle for a week looks idle for a week, as the serving clock would show), else to
    the last history event (``leave_last_out`` does not reveal the target's time).
    """
    ids, types, ages, keys = [], [], [], []
    for case in cases:
        events = [
            Event(str(case.user), item_ids[int(item)], str(etype), float(ts), None, "", "", (0, i))
            for i, (item, etype, ts) in enumerate(
                zip(case.history, case.history_event_types, case.history_timestamps)
            )
        ]
        steps = timeline.steps_of(events, SESSION_GAP_S, DEFAULT_EVENT_WEIGHTS)[-length:]
        now = max((e.ts for e in events), default=0.0)
        if case.request_time is not None:
            now = max(now, float(case.request_time))
        pad = length - len(steps)
        ids.append([fk.PAD_ITEM] * pad + [s.item for s in steps])
        types.append([fk.PAD_ITEM] * pad + [s.event_type for s in steps])
        ages.append([fk.PAD_AGE] * pad + [now - s.start for s in steps])
        keys.append(str(case.user))
    return {
        fk.HISTORY_ITEM_IDS: np.array(ids, dtype=str).reshape(len(cases), length),
        fk.HISTORY_EVENT_TYPES: np.array(types, dtype=str).reshape(len(cases), length),
        fk.HISTORY_AGES_S: np.array(ages, dtype=np.float32).reshape(len(cases), length),
        fk.QUERY: np.array([""] * len(cases)),
        fk.USER_KEY: np.array(keys),
    }


def item_categories(catalog) -> list[tuple[str, ...]]:
    """Category names per catalog row, split as ingestion splits them."""
    return [c.split_categories(value) for value in catalog[c.CATEGORY].astype(str)]


class RtrecRecommender:
    """The rtrec two-tower model behind the benchmark's ``Recommender`` protocol."""

    def __init__(
        self,
        embed_fn: Callable[[list[str]], np.ndarray],
        hp: Hyperparameters | None = None,
        name: str = "rtrec",
    ):
        self.embed_fn = embed_fn
        self.hp = (hp or Hyperparameters()).validate()
        self.name = name
        self.model: RtrecModel | None = None
        self.report: dict = {}

    def fit(self, train: TrainData) -> None:
        examples = _examples_from_events(train, self.hp)
        arrays = arrays_from_examples(examples)
        counts = np.bincount(train.events["item"].to_numpy(), minlength=train.n_items)
        ids = [str(i) for i in train.log.item_ids]
        texts = item_texts(train.catalog)
        content = np.asarray(self.embed_fn(texts), np.float32)
        catalog = Catalog(ids, texts, texts, counts, content, item_categories(train.catalog))
        vocab = [ids[i] for i in np.flatnonzero(counts > 0)]
        event_types = sorted(set(train.events["event_type"]))
        encoder = None
        if self.hp.content_tuning == "top_layers":
            from trainer.bert import BertTextEncoder, EncoderSpec

            encoder = BertTextEncoder(EncoderSpec(self.hp.encoder, self.hp.max_tokens))
        self.model = RtrecModel(
            catalog, vocab, event_types, self.hp, SESSION_GAP_S, encoder=encoder
        )
        dataset = array_dataset(arrays, self.hp.batch_size, shuffle=True, seed=self.hp.seed)
        self.report = fit(self.model, dataset, None, self.hp)
        self.report["train_examples"] = len(examples)

    def score(self, cases: Sequence[EvalCase]) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("call fit() before score()")
        features = case_features(cases, self.model.catalog.ids, self.hp.history_length)
        batch = inputs.batch_features(
            {key: tf.constant(value) for key, value in features.items()}, self.hp.history_length
        )
        users = self.model.user_vectors(batch)
        return tf.matmul(users, self.model.catalog_vectors(), transpose_b=True).numpy()
