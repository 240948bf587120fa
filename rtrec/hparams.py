"""The model's hyperparameters: one typed dataclass, validated when the run's config loads.

It lives in the ground package, without TensorFlow, so that ``rtrec.config`` can reject a typo
(``trainer.hparams.epoch``) or a wrong type before ingestion starts, and so that ingestion (which
pads histories to ``history_length``) and the trainer read the same value from the same place.
Settings that belong to other stages have their home there: the visit gap is
``ingestion.session_gap_s``, the evaluation cut-offs are ``evaluation.ks``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rtrec.typed import build

CONTENT_TUNING = ("frozen", "adapter", "top_layers")
NEGATIVES = ("full_catalog", "in_batch")
ENCODERS = ("minilm", "tiny")


@dataclass(frozen=True)
class Hyperparameters:
    """Every knob of the towers, the objective and training (docs/configuration.md explains
    each; docs/experiments.md has what each default measured)."""

    embedding_dim: int = 64
    """Width of the towers' item and user vectors (before the served affinity columns)."""
    history_length: int = 50
    """Most recent interactions a user vector reads; ingestion pads examples to this length."""
    num_blocks: int = 2
    """Causal self-attention blocks over the history."""
    num_heads: int = 2
    """Attention heads per block (must divide embedding_dim)."""
    dropout: float = 0.1
    """Dropout in the attention blocks and on the history's step inputs."""
    id_dropout: float = 0.3
    """Share of item occurrences whose id embedding is dropped, so the text path learns alone
    (an item nobody has interacted with yet is served by its text)."""
    long_term: bool = True
    """Add a projection of the (visit-weighted) mean of the history's items to the user vector:
    attention favours the latest steps, recurring interests live in the whole history."""
    visit_pooling: bool = True
    """Weigh that mean by each step's place in the user's visits (away now, opened a visit,
    visits ago), one learned weight per cell. Needs ``long_term``."""
    category_affinity: bool = True
    """Served columns for the user's visit-weighted share of each item category (a mixture
    over interests is linear in log space, so the index stays a dot product)."""
    word_affinity: bool = True
    """Served columns for the user's share of each informative word of the item texts (brands,
    authors, series recur across categories)."""
    use_user_id: bool = True
    """Add a hashed user-key embedding (absent for an empty key and dropped for user_id_dropout of
    training examples, so unknown users are served from their history)."""
    user_id_buckets: int = 20_000
    """Hash buckets of the user-key embedding."""
    user_id_dropout: float = 0.5
    """Share of training examples whose user-key embedding is dropped."""
    content_tuning: str = "adapter"
    """How the text path trains: ``frozen`` (projection only), ``adapter`` (a residual
    bottleneck adapter) or ``top_layers`` (the top BERT layers, trainer/content_tuning.py)."""
    adapter_dim: int = 128
    """Bottleneck width of the adapter (content_tuning='adapter')."""
    top_layers: int = 1
    """BERT layers that train with content_tuning='top_layers' (the top ones)."""
    negatives: str = "full_catalog"
    """``full_catalog`` softmax, or ``in_batch`` (TFRS ``Retrieval`` + logQ correction) for
    catalogs too large to score at every step."""
    temperature: float = 0.05
    """Softmax temperature of the retrieval losses; served affinity user columns carry it, so a
    logit gains their scores as they are."""
    logq_correction: bool = True
    """Subtract log(sampling probability) from in-batch logits (negatives='in_batch'), so popular
    items are not over-penalised."""
    ranking_weight: float = 0.0
    """Weight of the optional ranking head (predicts the target's event weight); 0: off."""
    item_oov_buckets: int = 10
    """Hash buckets for ids outside the vocabulary (they get a zero id vector and are served by
    their text)."""
    batch_size: int = 256
    """Training examples per step."""
    learning_rate: float = 0.003
    """Adam's learning rate."""
    epochs: int = 4
    """Passes over the training split (0 trains nothing: an untrained model, for tests of the
    gate)."""
    steps_per_epoch: int = 0
    """0 means one pass over the training split per epoch."""
    max_eval_examples: int = 5000
    """Held-out examples ranked against the full catalog after each epoch (TensorBoard)."""
    encoder: str = "minilm"
    """Text encoder: ``minilm`` (packaged all-MiniLM-L6-v2) or ``tiny`` (random, for tests)."""
    max_tokens: int = 48
    """Word pieces of an item text or query the encoder reads (longer ones are cut)."""
    seed: int = 0
    """Seed of weight initialisation, shuffling and dropout."""

    def validate(self) -> Hyperparameters:
        """Reject impossible combinations with a message that says what to change."""
        choices = {
            "content_tuning": CONTENT_TUNING,
            "negatives": NEGATIVES,
            "encoder": ENCODERS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r}; use one of {allowed}")
        positive = ("embedding_dim", "history_length", "num_heads", "batch_size", "max_tokens")
        for name in (*positive, "top_layers", "adapter_dim", "user_id_buckets", "epochs"):
            if getattr(self, name) < (0 if name == "epochs" else 1):
                raise ValueError(f"{name} must be at least {0 if name == 'epochs' else 1}")
        if self.visit_pooling and not self.long_term:
            raise ValueError(
                "visit_pooling weighs the long-term mean, which long_term=False turns off; "
                "set visit_pooling=False as well"
            )
        if self.embedding_dim % self.num_heads:
            raise ValueError("embedding_dim must be divisible by num_heads")
        for name in ("dropout", "id_dropout", "user_id_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1)")
        if self.temperature <= 0 or self.learning_rate <= 0 or self.ranking_weight < 0:
            raise ValueError("temperature and learning_rate must be > 0, ranking_weight >= 0")
        return self

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "hparams") -> Hyperparameters:
        """Build from JSON/YAML values, naming an unknown key (with the known ones) or a value of
        the wrong type; whole numbers are accepted for float knobs (JSON writes 4 for 4.0)."""
        return build(cls, values, where, noun="hyperparameter")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
