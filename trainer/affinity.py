"""Affinity columns: how much of the user's recent history shares each category / word of an item.

One user vector scores an item by a dot product, which is log-linear: it can say "likes phones"
and "likes Lumio" at once, but not "came back for phones *or* for tents" - a user with several
interests gets one averaged direction, and the strongest interest fills the list. A mixture over
a user's categories is linear in log space, though, so it can ride along as extra columns of the
served vectors (the index stays a plain dot product) while the towers learn what is left:

- ``CategoryAffinity``: strength x mean over the item's categories of
  log(share of the user's weighted history in that category + eps);
- ``WordAffinity``: the sum over the words of the item's text of a learned per-word strength x
  log(1 + share of the user's weighted history using that word / eps). Brands, authors, series
  and artists recur across categories; a word's strength starts at 0 and is learned, up for
  words that predict a user's next items, down for broad ones.

Each history step counts with a learned weight per visit cell (``trainer.visits.visit_cells``: away
now, opened a visit, visits ago; the model computes the cells once per request for both
layers), started from "openers count, the browsing after them a tenth,
0.7 per visit back": what opened a user's recent visits says what brings them back. User columns
carry the temperature, so a logit gains exactly the terms above.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from rtrec import contract as c
from trainer.visits import CELLS, VISITS_IN_VIEW

MAX_CATEGORY_COLUMNS = 256
"""Most frequent category names that get a column (each widens every served vector by one
float); rarer ones count as uncategorised."""
NO_CATEGORY = ""
MAX_WORD_COLUMNS = 512
WORD_MIN_ITEMS, WORD_MAX_SHARE = 3, 0.2
"""A word gets a column if at least this many items and at most this share of them use it
(rarer words cannot be learned, commoner ones say nothing); the most used first."""
OPENER_WEIGHT, BROWSE_WEIGHT, VISIT_DECAY = 1.0, 0.1, 0.7
"""Initial step weights (they train): a visit's opener, a later step of it, factor per visit."""


def category_columns(categories: Sequence[Sequence[str]]) -> list[str]:
    """Column names: ``NO_CATEGORY`` then the most frequent names (ties by name)."""
    counts = Counter(name for names in categories for name in set(names) if name)
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return [NO_CATEGORY, *ranked[: MAX_CATEGORY_COLUMNS - 1]]


def membership(categories: Sequence[Sequence[str]], columns: Sequence[str]) -> np.ndarray:
    """[items + 1, columns] 0/1: each item's categories (row -1: unknown items); an item with no
    category that has a column is in ``NO_CATEGORY``."""
    index = {name: j for j, name in enumerate(columns)}
    rows = np.zeros((len(categories) + 1, len(columns)), np.float32)
    for i, names in enumerate(list(categories) + [()]):
        cols = [index[name] for name in set(names) if name and name in index]
        rows[i, cols or [0]] = 1.0
    return rows


def text_words(texts: tf.Tensor) -> tf.RaggedTensor:
    """[n] texts -> ragged lower-case ASCII words (core string ops, so servable)."""
    letters = tf.strings.regex_replace(tf.strings.lower(texts), "[^a-z]+", " ")
    return tf.strings.split(letters)


def word_columns(texts: Sequence[str]) -> list[str]:
    """Column names: the words within the limits above, the most used first (ties by word)."""
    words = text_words(tf.constant(list(texts) or [""], tf.string)).to_list()
    counts = Counter(word.decode() for row in words for word in set(row))
    most = len(texts) * WORD_MAX_SHARE
    kept = [word for word, n in counts.items() if WORD_MIN_ITEMS <= n <= most]
    return sorted(kept, key=lambda word: (-counts[word], word))[:MAX_WORD_COLUMNS]


def _initial_log_weights() -> np.ndarray:
    """Log-weight per visit cell (``visit_cells`` order: away, opened, visits ago)."""
    ago = np.arange(VISITS_IN_VIEW)
    opened = np.log(OPENER_WEIGHT * VISIT_DECAY**ago)
    browsed = np.log(BROWSE_WEIGHT * VISIT_DECAY**ago)
    return np.concatenate([browsed, opened, browsed, opened])[:, None].astype(np.float32)


def _lookup(names: Sequence[str], first: int) -> tf.lookup.StaticHashTable:
    """name -> column (``first`` for the first name), -1 for any other string."""
    keys = list(names) or ["\x00"]  # a table needs a key; NUL never occurs in parsed text
    init = tf.lookup.KeyValueTensorInitializer(
        tf.constant(keys, tf.string), tf.range(first, first + len(keys), dtype=tf.int64)
    )
    return tf.lookup.StaticHashTable(init, default_value=-1)


def _word_hot(column_of: tf.lookup.StaticHashTable, width: int, texts: tf.Tensor) -> tf.Tensor:
    """[n] texts -> [n, width]: 1 where the text uses the column's word. Scattered from the
    (text, column) pairs, so memory follows the words, not texts x words x columns."""
    words = text_words(texts)
    columns = column_of.lookup(words.flat_values)
    known = columns >= 0
    pairs = tf.stack([tf.boolean_mask(words.value_rowids(), known), columns[known]], axis=1)
    shape = tf.stack([words.nrows(), tf.constant(width, tf.int64)])
    return tf.minimum(tf.scatter_nd(pairs, tf.ones(tf.shape(pairs)[:1]), shape), 1.0)


def _mean_row(hot: tf.Tensor) -> tf.Tensor:
    """0/1 rows with at least one 1 -> rows summing to 1 (a mean over the item's categories)."""
    return hot / tf.reduce_sum(hot, axis=-1, keepdims=True)


class _HistoryShares(tf.keras.layers.Layer):
    """Shared part: item membership rows and the user's weighted share of each column."""

    def __init__(self, members: np.ndarray, temperature: float, prefix: str, **kwargs):
        super().__init__(**kwargs)
        # Variables, not constants: a catalog-sized table is saved once in the SavedModel's
        # variables, not inlined into every serving function's graph.
        self.members = tf.Variable(members, trainable=False, name=f"{prefix}_members")
        """[items + 1, width] 0/1; the last row is for unknown ids and padding."""
        self.temperature = temperature
        self.step_weights = tf.keras.layers.Embedding(
            CELLS,
            1,
            embeddings_initializer=tf.keras.initializers.Constant(_initial_log_weights()),
            name=f"{prefix}_step_weights",
        )
        self.log_eps = self.add_weight(
            name=f"{prefix}_log_eps", shape=(), initializer=tf.keras.initializers.Constant(-3.0)
        )

    @property
    def width(self) -> int:
        return int(self.members.shape[1])

    def _known(self, rows: tf.Tensor) -> tf.Tensor:
        """Catalog rows with -1 (unknown id, padding) mapped to the last, "unknown item" row."""
        rows = tf.cast(rows, tf.int32)
        return tf.where(rows < 0, tf.shape(self.members)[0] - 1, rows)

    def shares(self, rows: tf.Tensor, cells: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """History catalog rows and ``visits.visit_cells`` [batch, length] -> [batch, width]
        weighted share per column (0 with no history)."""
        weights = tf.exp(self.step_weights(cells)[..., 0])
        weights *= tf.cast(mask, weights.dtype)
        steps = tf.gather(self.members, self._known(rows))
        share = tf.matmul(weights[:, None, :], steps)[:, 0]  # an Einsum was far slower in a Session
        return share / tf.maximum(tf.reduce_sum(weights, axis=1, keepdims=True), 1e-9)


class CategoryAffinity(_HistoryShares):
    """Columns of the category-affinity score (module docstring). Column 0 is "no category":
    uncategorised and unknown items, scored as a category the user never touched unless their
    history holds uncategorised items too."""

    def __init__(self, categories: Sequence[Sequence[str]], temperature: float, **kwargs):
        columns = category_columns(categories)
        super().__init__(membership(categories, columns), temperature, "affinity", **kwargs)
        self.columns = columns
        self.column_of = _lookup(self.columns[1:], first=1)
        self.strength = self.add_weight(
            name="affinity_strength", shape=(), initializer=tf.keras.initializers.Constant(1.0)
        )

    def item_columns(self, rows: tf.Tensor) -> tf.Tensor:
        """Catalog rows (-1: unknown) -> [..., width]: the item's categories, summing to 1."""
        return _mean_row(tf.gather(self.members, self._known(rows)))

    def columns_for_names(self, categories: tf.Tensor) -> tf.Tensor:
        """[n] category cells ("A|B", as in the catalog) -> [n, width] item columns: how
        ``embed_items`` places a new item; the same as ``membership`` for a catalog item."""
        names = tf.strings.strip(tf.strings.split(categories, c.CATEGORY_SEPARATOR))
        columns = self.column_of.lookup(names.to_tensor(default_value=""))
        hot = tf.reduce_max(tf.one_hot(columns, self.width), axis=1)  # -1 (unknown): zeros
        none = tf.one_hot(tf.zeros_like(categories, tf.int32), self.width)
        return _mean_row(tf.where(tf.reduce_any(hot > 0, axis=1, keepdims=True), hot, none))

    def user_columns(self, rows: tf.Tensor, cells: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """History catalog rows and visit cells [batch, length] -> [batch, width] columns."""
        share = self.shares(rows, cells, mask)
        return self.strength * self.temperature * tf.math.log(share + tf.exp(self.log_eps))


class WordAffinity(_HistoryShares):
    """Columns of the word-affinity score (module docstring): item columns are 0/1 per word."""

    def __init__(self, texts: Sequence[str], temperature: float, **kwargs):
        columns = word_columns(texts) or ["\x00"]  # one dead column keeps the shapes valid
        column_of = _lookup(columns, first=0)
        members = _word_hot(column_of, len(columns), tf.constant([*texts, ""], tf.string))
        super().__init__(members.numpy(), temperature, "word", **kwargs)
        self.columns, self.column_of = columns, column_of
        self.strength = self.add_weight(
            name="word_strength", shape=(len(self.columns),), initializer="zeros"
        )

    def columns_for_texts(self, texts: tf.Tensor) -> tf.Tensor:
        """[n] item texts -> [n, width] 0/1 item columns (``embed_items``: a new item's text)."""
        return _word_hot(self.column_of, self.width, texts)

    def item_columns(self, rows: tf.Tensor) -> tf.Tensor:
        """Catalog rows (-1: unknown) -> [..., width]: 1 for each word of the item's text."""
        return tf.gather(self.members, self._known(rows))

    def user_columns(self, rows: tf.Tensor, cells: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """History catalog rows and visit cells [batch, length] -> [batch, width] columns."""
        share = self.shares(rows, cells, mask)
        return self.strength * self.temperature * tf.math.log1p(share / tf.exp(self.log_eps))
