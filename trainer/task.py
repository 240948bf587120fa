"""The TFX Trainer entry point: ``run_fn`` reads the run's artifacts, trains, and exports.

Thin on purpose: every step is a builder that tests call without TFX. The model trains on
ingestion's examples; Transform's job is the vocabularies (trainer/preprocessing.py says why).
"""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import tensorflow_transform as tft

from rtrec import features as fk
from rtrec.hparams import Hyperparameters
from trainer.bert import BertTextEncoder, EncoderSpec
from trainer.catalog import from_artifacts
from trainer.data import take_arrays, tfx_dataset
from trainer.model import RtrecModel
from trainer.params import content_parameter_counts
from trainer.signatures import export
from trainer.text_cache import load_embeddings
from trainer.train import fit
from trainer.warm_start import save_warm_start, warm_start

REPORT_FILE = "training_report.json"
CATALOG_URI = "item_catalog_uri"
EMBEDDINGS_URI = "text_embeddings_uri"
HPARAMS, SESSION_GAP_S, EVAL_KS = "hparams", "session_gap_s", "eval_ks"
"""Keys of the Trainer's ``custom_config`` (pipeline/pipeline.py fills them from the config)."""


def _vocabulary(output: tft.TFTransformOutput, name: str) -> list[str]:
    return [
        v.decode("utf-8") if isinstance(v, bytes) else v for v in output.vocabulary_by_name(name)
    ]


def _warm_start(model: RtrecModel, base_model: str | None, arrays: dict) -> dict:
    """Start from the base model's weights when the Trainer was given one (continuous
    training); a base model of another architecture is reported and training starts cold."""
    if not base_model:
        return {"from": None}
    import tensorflow as tf

    from trainer.inputs import batch_features

    batch = {key: tf.constant(value[:2]) for key, value in arrays.items()}
    model.compute_loss(batch_features(batch, model.hp.history_length))  # builds every weight
    try:
        return {"from": base_model, **warm_start(model, base_model)}
    except (ValueError, FileNotFoundError) as err:
        logging.warning("warm start skipped, training from scratch: %s", err)
        return {"from": None, "skipped": str(err)}


def run_fn(fn_args) -> None:
    """Train the two-tower model on the run's examples and export the serving SavedModel."""
    config = dict(fn_args.custom_config or {})
    hp = Hyperparameters.from_dict(config[HPARAMS])
    transform = tft.TFTransformOutput(fn_args.transform_output)
    texts, vectors = load_embeddings(config[EMBEDDINGS_URI])
    by_text = dict(zip(texts, vectors))
    catalog = from_artifacts(config[CATALOG_URI], by_text)
    queries = sorted(set(texts) - set(catalog.texts))
    # Built before the model: with content_tuning='top_layers' the model tunes its top layers.
    encoder = BertTextEncoder(EncoderSpec(hp.encoder, hp.max_tokens))
    model = RtrecModel(
        catalog,
        _vocabulary(transform, fk.ITEM_VOCAB),
        _vocabulary(transform, fk.EVENT_TYPE_VOCAB),
        hp,
        config[SESSION_GAP_S],
        queries,
        np.stack([by_text[q] for q in queries]) if queries else None,
        encoder=encoder,
    )
    schema = transform.raw_metadata.schema
    length = hp.history_length
    train = tfx_dataset(
        fn_args.train_files, fn_args.data_accessor, schema, hp.batch_size, length, True
    )
    evaluation = tfx_dataset(fn_args.eval_files, fn_args.data_accessor, schema, 1024, length, False)
    eval_arrays = take_arrays(evaluation, hp.max_eval_examples)
    started_from = _warm_start(model, fn_args.base_model, eval_arrays)
    report = fit(model, train, eval_arrays, hp, config[EVAL_KS], log_dir=fn_args.model_run_dir)
    report["warm_start"] = started_from
    export(model, encoder, fn_args.serving_model_dir)
    save_warm_start(model, fn_args.serving_model_dir)
    report["content_parameters"] = content_parameter_counts(hp, encoder)
    report["catalog_items"] = catalog.size
    report["hparams"] = hp.to_dict()
    os.makedirs(fn_args.model_run_dir, exist_ok=True)
    with open(os.path.join(fn_args.model_run_dir, REPORT_FILE), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, default=float)
