"""Training loop: Keras fit with TensorBoard: loss, in-batch top-K, catalog eval, projector."""

from __future__ import annotations

import os
import time

import numpy as np
import tensorflow as tf
from tensorboard.plugins import projector

from rtrec.hparams import Hyperparameters
from trainer.model import RtrecModel
from trainer.progress import StepProgress
from trainer.ranking import evaluate_examples


class RetrievalEvalCallback(tf.keras.callbacks.Callback):
    """After each epoch: recall/NDCG@K over the whole catalog on held-out examples.

    In-batch metrics flatter a retriever (few, easy negatives); full-catalog ranking with the
    history excluded is what the Evaluator and the benchmark measure, so it is logged here too.
    """

    def __init__(self, arrays: dict, ks: tuple[int, ...], log_dir: str | None):
        super().__init__()
        self.arrays, self.ks = arrays, ks
        self.writer = (
            tf.summary.create_file_writer(os.path.join(log_dir, "eval")) if log_dir else None
        )
        self.history: list[dict] = []

    def on_epoch_end(self, epoch: int, logs=None):
        results = evaluate_examples(self.model, self.arrays, self.ks)
        self.history.append(results)
        flat = {f"{s}/{m}": v for s, ms in results.items() for m, v in ms.items()}
        if logs is not None:
            shown = ("all/HR@10", "all/NDCG@10", "cold_items/HR@10")
            logs.update({f"eval_{k}": flat[k] for k in shown if k in flat})
        if self.writer:
            # Keras' TensorBoard callback narrows recording to every `update_freq` steps for the
            # whole fit; these per-epoch scalars must always be written.
            with self.writer.as_default(), tf.summary.record_if(True):
                for key, value in flat.items():
                    tf.summary.scalar(key, value, step=epoch)
            self.writer.flush()


def write_projector(model: RtrecModel, log_dir: str, sample: int = 2000, seed: int = 0) -> str:
    """Item vectors of a sample of the catalog with their titles, for TensorBoard's projector."""
    folder = os.path.join(log_dir, "projector")
    os.makedirs(folder, exist_ok=True)
    n = model.catalog.size
    rows = np.sort(np.random.default_rng(seed).choice(n, size=min(sample, n), replace=False))
    tower_part = model.catalog_vectors()[:, : model.hp.embedding_dim]
    vectors = tf.gather(tower_part, rows)
    with open(os.path.join(folder, "metadata.tsv"), "w", encoding="utf-8") as handle:
        handle.write("item_id\ttitle\n")
        for row in rows:
            title = model.catalog.titles[row].replace("\t", " ").replace("\n", " ")
            handle.write(f"{model.catalog.ids[row]}\t{title}\n")
    checkpoint = tf.train.Checkpoint(item_embedding=tf.Variable(vectors))
    checkpoint.save(os.path.join(folder, "embedding.ckpt"))
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "item_embedding/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(folder, config)
    return folder


class TextRefreshCallback(tf.keras.callbacks.Callback):
    """content_tuning='top_layers': rebuild the text tables through the tuned layers each epoch.

    Runs before the evaluation callback, so per-epoch metrics see the current encoder.
    """

    def on_epoch_end(self, epoch: int, logs=None):
        self.model.refresh_text_vectors()


class _ExampleCounter(tf.keras.callbacks.Callback):
    """Counts trained batches and times each epoch (dataset sizes are often unknown to Keras).

    The first epoch includes tracing the step function; later epochs are the steady state.
    """

    def __init__(self):
        super().__init__()
        self.batches = 0
        self.epoch_seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._started)


def fit(
    model: RtrecModel,
    train: tf.data.Dataset,
    eval_arrays: dict | None,
    hp: Hyperparameters,
    eval_ks: tuple[int, ...] = (10, 50),
    log_dir: str | None = None,
) -> dict:
    """Train ``model``; returns per-epoch losses, eval metrics and examples/s. ``eval_arrays``
    (held-out examples) are ranked against the full catalog after each epoch at ``eval_ks``
    (the run's ``evaluation.ks``)."""
    tf.keras.utils.set_random_seed(hp.seed)
    model.compile(optimizer=tf.keras.optimizers.Adam(hp.learning_rate))
    counter = _ExampleCounter()
    callbacks: list = [counter, StepProgress()]
    if model.text_cache is not None:
        callbacks.append(TextRefreshCallback())
    evaluator = None
    if eval_arrays is not None:
        evaluator = RetrievalEvalCallback(eval_arrays, tuple(eval_ks), log_dir)
        callbacks.append(evaluator)
    if log_dir:
        callbacks.append(tf.keras.callbacks.TensorBoard(log_dir, update_freq=50))
    started = time.perf_counter()
    history = model.fit(
        train.repeat() if hp.steps_per_epoch else train,
        epochs=hp.epochs,
        steps_per_epoch=hp.steps_per_epoch or None,
        callbacks=callbacks,
        verbose=2,
    )
    seconds = time.perf_counter() - started
    examples = counter.batches * hp.batch_size  # the last batch of an epoch may be smaller
    if log_dir:
        write_projector(model, log_dir)
    return {
        "loss": history.history.get("loss", []),
        "in_batch": {m.name: history.history.get(m.name, []) for m in model.batch_metrics},
        "eval": evaluator.history if evaluator else [],
        "seconds": seconds,
        "train_batches": counter.batches,
        "epoch_seconds": counter.epoch_seconds,
        "examples_per_second": examples / seconds if seconds and examples else None,
    }
