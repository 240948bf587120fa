"""Tests for the content-only baseline and its default TF-IDF encoder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from rtrec.evaluation.content import ContentOnly, item_texts, tfidf_embed
from rtrec.evaluation.interactions import build_interactions
from rtrec.evaluation.protocols import EvalCase, TrainData

CATALOG = pd.DataFrame(
    {
        "item_id": ["a", "b", "c", "d"],
        "title": ["Red fox", "Red hen", "Blue whale", "Blue shark"],
        "description": ["forest", "farm", "ocean", "ocean"],
        "category": ["land|animal", "land|bird", "sea|mammal", "sea|fish"],
    }
)


def _train() -> TrainData:
    events = pd.DataFrame(
        {"user_id": ["u"], "item_id": ["a"], "event_type": ["view"], "timestamp": ["1"]}
    )
    log = build_interactions(events, CATALOG)
    return TrainData(events=log.events, log=log)


def _case(history: list[int]) -> EvalCase:
    empty = np.empty(0, dtype=np.int64)
    return EvalCase(0, np.asarray(history), empty, empty, empty, empty)


def test_item_texts_are_the_pipelines_item_texts() -> None:
    from rtrec.validation import RawRow, parse_item

    assert item_texts(CATALOG)[0] == "Red fox. land / animal. forest"
    row = {key: str(value) for key, value in CATALOG.iloc[0].items()}
    parsed, _ = parse_item(RawRow("items.csv", 0, 0, 2, row, ""), 2000)
    assert item_texts(CATALOG)[0] == parsed.text  # the benchmark embeds what the pipeline does
    no_extras = CATALOG[["item_id", "title"]].assign(title=["  Red   fox ", "b", "c", "d"])
    assert item_texts(no_extras)[0] == "Red fox"


def test_content_only_prefers_items_like_the_history() -> None:
    model = ContentOnly()
    model.fit(_train())
    scores = model.score([_case([2]), _case([0])])
    assert scores.shape == (2, 4)
    assert scores[0, 3] > scores[0, 1] and scores[0, 3] > scores[0, 0]
    assert scores[1, 1] > scores[1, 2]


def test_recency_weighting_follows_the_latest_item() -> None:
    def one_hot(texts: list[str]) -> np.ndarray:
        return np.eye(len(texts), dtype=np.float32)

    model = ContentOnly(one_hot, recency_decay=0.5)
    model.fit(_train())
    scores = model.score([_case([0, 2])])[0]
    assert scores[2] > scores[0] > scores[1] == 0.0


def test_dense_and_sparse_embeddings_score_alike() -> None:
    dense = ContentOnly(lambda texts: tfidf_embed(texts).toarray())
    sparse = ContentOnly()
    for model in (dense, sparse):
        model.fit(_train())
    cases = [_case([0, 3]), _case([1])]
    np.testing.assert_allclose(dense.score(cases), sparse.score(cases), atol=1e-6)


def test_embed_fn_must_return_one_row_per_text() -> None:
    model = ContentOnly(lambda texts: np.zeros((1, 3)))
    with pytest.raises(ValueError, match="one row per text"):
        model.fit(_train())


def test_tfidf_embed_reduces_to_dim_and_refuses_empty_text() -> None:
    texts = item_texts(CATALOG)
    full = tfidf_embed(texts)
    assert sp.issparse(full) and full.shape[0] == 4
    reduced = tfidf_embed(texts, dim=2)
    assert reduced.shape == (4, 2) and reduced.dtype == np.float32
    with pytest.raises(ValueError, match="empty"):
        tfidf_embed(["", " "])
