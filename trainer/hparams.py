"""Hyperparameters of the two-tower model, in one dataclass (defaults tuned on the sample world)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rtrec.config import SESSION_GAP_S

CONTENT_TUNING = ("frozen", "adapter", "top_layers")
NEGATIVES = ("full_catalog", "in_batch")
INTEREST_TRAINING = ("mixture", "best")
MAX_INTERESTS = 8


@dataclass(frozen=True)
class Hyperparameters:
    """Every knob of towers, objective and training; `validate` rejects impossible values."""

    embedding_dim: int = 64
    history_length: int = 50
    num_blocks: int = 2
    num_heads: int = 2
    dropout: float = 0.1
    id_dropout: float = 0.3
    """Share of item occurrences whose id embedding is dropped, so the text path learns alone."""
    long_term: bool = True
    """Add a long-term interest vector (masked mean of the history items, weighted per visit
    cell with ``visit_pooling``) to the sequence summary: the attention tower favours the
    latest steps, while interests that recur over weeks (a brand, a hobby) live in the whole
    history."""
    visit_pooling: bool = True
    """Weigh the long-term mean by each step's place in the user's visits (trainer/towers.py
    ``visit_cells``: is the user away now, did the step open a visit, how many visits ago),
    one learned weight per cell, starting from the plain mean. What opened a user's recent
    visits says what brings them back after days away; the mean over every step drowns that
    in the browsing that followed. Needs ``long_term``. On by default: on the sample world
    weeks ahead (temporal, asked at the cut) NDCG@10 0.0760 -> 0.0866, next click 0.2132 ->
    0.2090 (README)."""
    time_gaps: bool = False
    """Give the behaviour tower the time since each step's previous step (TiSASRec-style
    interval buckets, trainer/towers.py), so it can tell the item that opened a visit (what
    brought the user back) from the browsing that followed it. Off by default: before visit
    pooling, alone no gain on the sample world's temporal protocol (NDCG@10 0.0757 vs 0.0760)
    and with ``visit_start_weight`` 4, 0.0788 there but 0.1885 vs 0.2132 next-click; with
    visit pooling that pair lowers temporal, 0.0809 vs 0.0866 (README)."""
    interests: int = 1
    """Vectors per user (MIND / ComiRec multi-interest, see trainer/interests.py): 1 is the
    classic single vector; K > 1 adds K - 1 attention-pooled interests, and an item scores by
    the best of them, so a user's separate interests (tents, kettles) each reach the top k.
    Off by default: on the sample world 4 interests lower next-click accuracy (NDCG@10 0.213
    -> 0.175) and, once the weeks-ahead protocol asks at the cut, that too (0.076 -> 0.061;
    both measured with ``interest_training='best'``, before visit interests); see the
    README."""
    visit_interests: int = 0
    """Extra user vectors, one per recent visit (up to this many, latest first): the item that
    opened the visit, projected, with a learned scale per (away now, visits ago). An item
    scores by its best vector (as with ``interests``), so each interest that brought the user
    back reaches the top k: a mixture over interests, where one vector's dot product averages
    them and the strongest interest fills the list (trainer/towers.py ``visit_openers``).
    Each vector is one more index query per request. Off by default: with 3 (on the defaults
    before the affinity columns), the sample world gained (next click NDCG@10 0.2090 ->
    0.2211, weeks ahead 0.0863 -> 0.0879), but MovieLens lost (next item 0.0567 -> 0.0550;
    its 27-user temporal split 0.2078 -> 0.1397, below ItemKNN's 0.1685); README."""
    interest_training: str = "mixture"
    """How several user vectors share a target in the full-catalog softmax: ``mixture`` (the
    mean of their softmax probabilities) or ``best`` (only the nearest vector trains); see
    trainer/model.py ``_full_catalog_loss``. ``negatives='in_batch'`` always trains the
    nearest vector: TFRS ``Retrieval`` takes one query vector per example."""
    category_affinity: bool = True
    """Add the category-affinity score (trainer/affinity.py): a learned strength x the mean over
    the item's categories of log(share of the user's visit-weighted history in it + eps). A
    user's mix of interests is a mixture over categories, which one dot product averages away;
    in log space it is linear, so it is served as extra vector columns (one per category, up to
    ``affinity.MAX_CATEGORY_COLUMNS``) and the index stays a plain dot product. With
    ``word_affinity``, on by default: sample world weeks ahead NDCG@10 0.0863 -> 0.0966 (+22%
    over EASE), next click 0.2090 -> 0.2097; MovieLens next item 0.0567 -> 0.0538 (EASE
    0.0360), 27-user temporal 0.2078 -> 0.2074, HR@10 0.630 -> 0.667 (README). One training
    each, weeks ahead: categories alone 0.0930, with words 0.0940."""
    word_affinity: bool = True
    """Add the word-affinity score (trainer/affinity.py): per word of the item text (used by 3
    items to 20% of the catalog, up to ``affinity.MAX_WORD_COLUMNS``) a learned strength x
    log(1 + share of the user's visit-weighted history using it / eps): brands, authors and
    series recur across categories. One served column per word."""
    history_blend: float = 0.0
    """Weight of an item-to-history similarity added to every score at ranking time (not in
    the loss): cos(unit mean of the history's item vectors, item), ItemKNN-like over the
    learned item vectors. Vectors trained on the next click look at the current session; this
    keeps the user's recurring interests in view (see trainer/model.py). Off by default: it
    costs next-click accuracy, and a model that knows how long the user has been away needs it
    less (weeks ahead, asked at the cut: 0.076 without, 0.074 with weight 1; README)."""
    item_bias: bool = True
    """A learned per-item score offset (popularity inside a user's interests). Served as one
    extra vector column, so the index stays a plain dot product: user [u, temperature] x
    item [v, bias]."""
    use_user_id: bool = True
    user_id_buckets: int = 20_000
    user_id_dropout: float = 0.5
    content_tuning: str = "adapter"
    adapter_dim: int = 128
    top_layers: int = 1
    """With ``content_tuning='top_layers'``: how many of BERT's top layers train (see
    trainer/content_tuning.py for how that stays affordable)."""
    negatives: str = "full_catalog"
    temperature: float = 0.05
    logq_correction: bool = True
    future_weight: float = 0.0
    """Weight of the dense future objective: also predict the user's later items within a
    horizon (PinnerFormer's "dense all action" loss), for long-term interests as well as the
    next click. Needs `future_item_ids` in the examples and full-catalog negatives."""
    exclude_history: bool = False
    """Train the full-catalog softmax as rankings are served: without the items already in the
    example's history (every ranking here excludes them: the benchmark, the pipeline's
    evaluation, ``recommend``'s exclusions), and without targets the user already had, which a
    ranking that excludes history can never hit. Off: repeat-purchase surfaces want repeats,
    and on the sample world's temporal protocol it measured 0.073 vs 0.076 NDCG@10."""
    visit_start_weight: float = 1.0
    """Full-catalog softmax: loss weight of examples whose target opens a visit (the last
    history step is at least ``visit_gap_s`` older), relative to in-visit examples. Five
    examples in six continue a visit, so the model learns transitions best; what brings a
    returning user back is learnt from the rest, and that is what a recommendation for a user
    who was away needs. 1 by default: 4 measured 0.0753 vs 0.0760 NDCG@10 on the sample
    world's temporal protocol, and 0.0823 vs 0.0866 with visit pooling."""
    visit_gap_s: float = float(SESSION_GAP_S)
    """Idle time that ends a visit; the pipeline passes the ingestion's ``session_gap_s``."""
    ranking_weight: float = 0.0
    """Weight of the optional ranking head (predicts the target's event weight); 0 disables it."""
    item_oov_buckets: int = 10
    batch_size: int = 256
    learning_rate: float = 0.003
    epochs: int = 4
    steps_per_epoch: int = 0
    """0 means one pass over the training split per epoch."""
    eval_ks: tuple[int, ...] = (10, 50)
    max_eval_examples: int = 5000
    encoder: str = "minilm"
    max_tokens: int = 48
    seed: int = 0

    def validate(self) -> Hyperparameters:
        if self.content_tuning not in CONTENT_TUNING:
            raise ValueError(f"content_tuning={self.content_tuning!r}; use one of {CONTENT_TUNING}")
        if self.top_layers < 1:
            raise ValueError("top_layers must be at least 1 (the number of BERT layers to tune)")
        if not 1 <= self.interests <= MAX_INTERESTS:
            raise ValueError(f"interests must be in [1, {MAX_INTERESTS}]")
        if not 0 <= self.visit_interests <= MAX_INTERESTS:
            raise ValueError(f"visit_interests must be in [0, {MAX_INTERESTS}]")
        if self.interest_training not in INTEREST_TRAINING:
            raise ValueError(
                f"interest_training={self.interest_training!r}; use one of {INTEREST_TRAINING}"
            )
        if self.negatives not in NEGATIVES:
            raise ValueError(f"negatives={self.negatives!r}; use one of {NEGATIVES}")
        full_catalog_only = {
            "future_weight": self.future_weight > 0,
            "exclude_history": self.exclude_history,
            "visit_start_weight": self.visit_start_weight != 1.0,
        }
        if self.negatives != "full_catalog" and any(full_catalog_only.values()):
            used = [name for name, on in full_catalog_only.items() if on]
            raise ValueError(
                f"{', '.join(used)} shape(s) the full-catalog softmax; "
                f"use negatives='full_catalog' or leave them at their defaults"
            )
        if self.visit_pooling and not self.long_term:
            raise ValueError(
                "visit_pooling weighs the long-term mean, which long_term=False turns off; "
                "set visit_pooling=False as well"
            )
        if self.embedding_dim % self.num_heads:
            raise ValueError("embedding_dim must be divisible by num_heads")
        if self.visit_start_weight <= 0 or self.visit_gap_s <= 0:
            raise ValueError("visit_start_weight and visit_gap_s must be > 0")
        if self.history_blend < 0:
            raise ValueError("history_blend must be >= 0 (0 turns it off)")
        for name in ("dropout", "id_dropout", "user_id_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1)")
        return self

    @classmethod
    def from_dict(cls, values: dict) -> Hyperparameters:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {unknown}; known: {sorted(known)}")
        if "eval_ks" in values:
            values = {**values, "eval_ks": tuple(values["eval_ks"])}
        # JSON and ``--rtrec-set`` give 4 for 4.0; TF ops then see int32 where floats belong.
        # (Field types are the annotation strings: this module has postponed annotations.)
        floats = {f.name for f in dataclasses.fields(cls) if f.type == "float"}
        values = {
            k: float(v) if k in floats and isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in values.items()
        }
        return cls(**values).validate()
