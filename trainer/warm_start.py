"""Warm start: a new training begins from the latest blessed model's weights, the catalog grown.

Continuous training retrains on new spans with a vocabulary that has grown (new items) and maybe
shrunk (items that left the window). Restoring a checkpoint would need identical shapes, so each
exported model leaves its trainable weights beside its SavedModel (``warm_start/``, outside
``Format-Serving``, so the Pusher does not copy it to TF Serving) with the ids that index the
catalog-sized ones. The next model copies every weight whose shape is unchanged, and remaps the
id-indexed ones row by row: a known item keeps its learned id embedding, a new item
keeps its fresh initialisation, and a word keeps its learned affinity strength. Weights that are
rebuilt from data (catalog text vectors, membership tables) are not trainable and not copied.
"""

from __future__ import annotations

import json
import os

import numpy as np

WARM_START_DIR = "warm_start"
_WEIGHTS, _INDEX = "weights.npz", "index.json"


def warm_start_dir(serving_model_dir: str) -> str:
    """Where a model's warm-start weights live: beside its serving SavedModel."""
    return os.path.join(os.path.dirname(os.path.normpath(serving_model_dir)), WARM_START_DIR)


def _id_indexed(model) -> dict[int, tuple[str, list[str]]]:
    """id(variable) -> (kind, row keys) for the weights whose rows follow the catalog."""
    tower = model.item_tower
    vocab = tower.vocabulary
    out = {id(tower.id_embedding.embeddings): ("vocabulary", vocab)}
    for layer in model.affinities:
        if len(layer.strength.shape) == 1:  # one strength per word column
            out[id(layer.strength)] = ("columns", list(layer.columns))
    return out


def save_warm_start(model, serving_model_dir: str) -> str:
    """Write the trained model's weights for the next training; returns the folder."""
    folder = warm_start_dir(serving_model_dir)
    os.makedirs(folder, exist_ok=True)
    indexed = _id_indexed(model)
    weights = model.trainable_weights
    np.savez(os.path.join(folder, _WEIGHTS), **{f"w{i}": w.numpy() for i, w in enumerate(weights)})
    index = [
        {"name": w.name, "shape": list(w.shape), "rows": indexed.get(id(w), (None, None))}
        for w in weights
    ]
    with open(os.path.join(folder, _INDEX), "w", encoding="utf-8") as handle:
        json.dump({"weights": index}, handle)
    return folder


def _remapped(old: np.ndarray, old_keys: list[str], new: np.ndarray, new_keys: list[str]):
    """``new`` with the rows of keys that both know copied from ``old`` (the tail rows past
    the keys, OOV buckets, copied as they are when their count is unchanged)."""
    out = new.copy()
    where = {key: i for i, key in enumerate(old_keys)}
    pairs = [(i, where[key]) for i, key in enumerate(new_keys) if key in where]
    if pairs:
        rows, old_rows = map(list, zip(*pairs))
        out[rows] = old[old_rows]
    old_tail, new_tail = old.shape[0] - len(old_keys), new.shape[0] - len(new_keys)
    if old_tail == new_tail and new_tail > 0:
        out[len(new_keys) :] = old[len(old_keys) :]
    return out, len(pairs)


def warm_start(model, serving_model_dir: str) -> dict:
    """Copy the weights saved beside ``serving_model_dir`` into ``model`` (built, same
    architecture); returns what was copied. Raises if the architectures differ."""
    folder = warm_start_dir(serving_model_dir)
    if not os.path.exists(os.path.join(folder, _INDEX)):
        raise FileNotFoundError(
            f"no warm-start weights in {folder}: the base model was exported before warm "
            "start existed, or by another trainer; train from scratch (no base model)"
        )
    with open(os.path.join(folder, _INDEX), encoding="utf-8") as handle:
        index = json.load(handle)["weights"]
    saved = np.load(os.path.join(folder, _WEIGHTS))
    weights = model.trainable_weights
    if len(weights) != len(index):
        raise ValueError(
            f"the base model has {len(index)} trainable weights, this one {len(weights)}: the "
            "architecture changed (hyperparameters such as embedding_dim, num_blocks or the "
            "affinity switches); train from scratch"
        )
    indexed = _id_indexed(model)
    report = {"copied": 0, "remapped": {}, "rows_kept": 0}
    for i, (weight, entry) in enumerate(zip(weights, index)):
        old = saved[f"w{i}"]
        kind, new_keys = indexed.get(id(weight), (None, None))
        if kind is not None and entry["rows"][0] == kind:
            value, kept = _remapped(old, entry["rows"][1], weight.numpy(), new_keys)
            weight.assign(value)
            report["remapped"][weight.name] = kept
            report["rows_kept"] += kept
        elif tuple(old.shape) == tuple(weight.shape):
            weight.assign(old)
            report["copied"] += 1
        else:
            raise ValueError(
                f"weight {i} ({weight.name}) has shape {list(weight.shape)} here and "
                f"{list(old.shape)} in the base model: the architecture changed; train from "
                "scratch"
            )
    return report
