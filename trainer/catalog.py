"""The item catalog as the model sees it: ids, text, frozen text vectors and training frequency.

Built from the pipeline's ItemCatalog + TextEmbeddings artifacts, or directly from arrays (the
quality benchmark and unit tests), so every model builder runs without TFX.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import numpy as np

from rtrec import features as fk


@dataclass
class Catalog:
    """Every servable item. Row ``len(ids)`` is reserved for unknown ids (zero content)."""

    ids: list[str]
    titles: list[str]
    texts: list[str]
    train_counts: np.ndarray
    content: np.ndarray
    """Frozen text vectors [n_items, text_dim], row i for ids[i]."""
    categories: list[tuple[str, ...]] | None = None
    """Each item's category names (the input contract's ``category``, split on '|');
    None: none known."""

    def __post_init__(self):
        n = len(self.ids)
        if self.categories is None:
            self.categories = [()] * n
        if len(self.categories) != n:
            raise ValueError(f"categories has {len(self.categories)} rows for {n} items")
        if not (len(self.titles) == len(self.texts) == len(self.train_counts) == n):
            raise ValueError("catalog columns differ in length")
        if self.content.shape[0] != n:
            raise ValueError(f"content has {self.content.shape[0]} rows for {n} items")

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def text_dim(self) -> int:
        return int(self.content.shape[1])

    def sampling_probability(self) -> np.ndarray:
        """Training frequency of each item (add-one smoothed): the logQ correction's Q."""
        counts = self.train_counts.astype(np.float64) + 1.0
        return (counts / counts.sum()).astype(np.float32)


def read_catalog_records(catalog_uri: str) -> list[dict]:
    """Items of an ItemCatalog artifact as dicts, sorted by id (a stable catalog order)."""
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(catalog_uri, "catalog", "*")))
    rows = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        feature = tf.train.Example.FromString(record).features.feature
        rows.append(
            {
                fk.ITEM_ID: feature[fk.ITEM_ID].bytes_list.value[0].decode(),
                fk.ITEM_TITLE: feature[fk.ITEM_TITLE].bytes_list.value[0].decode(),
                fk.ITEM_TEXT: feature[fk.ITEM_TEXT].bytes_list.value[0].decode(),
                fk.ITEM_TRAIN_COUNT: int(feature[fk.ITEM_TRAIN_COUNT].int64_list.value[0]),
                fk.ITEM_CATEGORIES: tuple(
                    name.decode() for name in feature[fk.ITEM_CATEGORIES].bytes_list.value
                ),
            }
        )
    return sorted(rows, key=lambda row: row[fk.ITEM_ID])


def from_artifacts(catalog_uri: str, vectors_by_text: dict[str, np.ndarray]) -> Catalog:
    """The catalog of a pipeline run, with vectors from the TextEmbedder artifact."""
    rows = read_catalog_records(catalog_uri)
    missing = [r[fk.ITEM_ID] for r in rows if r[fk.ITEM_TEXT] not in vectors_by_text]
    if missing:
        raise ValueError(f"{len(missing)} catalog items have no text vector, e.g. {missing[:3]}")
    return Catalog(
        ids=[r[fk.ITEM_ID] for r in rows],
        titles=[r[fk.ITEM_TITLE] for r in rows],
        texts=[r[fk.ITEM_TEXT] for r in rows],
        train_counts=np.array([r[fk.ITEM_TRAIN_COUNT] for r in rows]),
        content=np.stack([vectors_by_text[r[fk.ITEM_TEXT]] for r in rows]),
        categories=[r[fk.ITEM_CATEGORIES] for r in rows],
    )
