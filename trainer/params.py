"""Trainable parameter counts of the content path under each ``content_tuning`` mode."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from rtrec.hparams import CONTENT_TUNING, Hyperparameters
from trainer.bert import BertTextEncoder
from trainer.towers import ItemTower


def _trainable(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


def content_parameter_counts(hp: Hyperparameters, encoder: BertTextEncoder) -> dict[str, int]:
    """Trainable parameters on the text path (projection, adapter, unfrozen BERT layers).

    Measured by building each variant, so the numbers are what Keras would train.
    """
    counts = {}
    dim = encoder.dim
    for mode in CONTENT_TUNING:
        tower = ItemTower(
            ["x"], np.zeros((1, dim), np.float32), ["x"],
            embedding_dim=hp.embedding_dim, oov_buckets=hp.item_oov_buckets,
            adapter_dim=hp.adapter_dim if mode == "adapter" else None,
            id_dropout=hp.id_dropout,
        )  # fmt: skip
        tower.text_part(tf.zeros([1, dim]))
        text_weights = [w for w in tower.trainable_weights if "item_id_embedding" not in w.name]
        count = _trainable(text_weights)
        if mode == "top_layers":
            layers = encoder.transformer_layers[-hp.top_layers :]
            count += sum(_trainable(layer.weights) for layer in layers)
        counts[mode] = count
    return counts
