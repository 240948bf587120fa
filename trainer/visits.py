"""Visits inside the graph: is the user away now, which step opened a visit, how many visits ago.

A visit ends after ``session_gap_s`` of inactivity (``ingestion.session_gap_s``, the same gap that
cuts ingestion's sessions). The model reads the visit structure from the ages of the history
steps alone (ages count back from the target in training and from ``now`` in serving), so the
served model needs no extra input: visit pooling and the affinity columns share these cells.
"""

from __future__ import annotations

import tensorflow as tf

VISITS_IN_VIEW = 8
"""Visits back that get a cell of their own; older ones share the last."""
CELLS = 4 * VISITS_IN_VIEW
"""Number of visit cells: (away now, opened a visit) x visits ago."""


def opens_visit(ages_s: tf.Tensor, gap_s: float) -> tf.Tensor:
    """[batch] bool: the request (or training target) opens a new visit.

    Ages count back from it, so the last step's age is the idle time before it; an empty
    history (padding age < 0) is a first visit.
    """
    last = tf.cast(ages_s[:, -1], tf.float32)
    return tf.logical_or(last >= gap_s, last < 0)


def visit_starts(ages_s: tf.Tensor, mask: tf.Tensor, gap_s: float) -> tuple[tf.Tensor, tf.Tensor]:
    """Per step: did it open a visit (no real step before it, or the one before is at least
    ``gap_s`` older), and how many visits opened after it (0 = the latest visit)."""
    ages = tf.cast(ages_s, tf.float32)
    before = tf.concat([ages[:, :1], ages[:, :-1]], axis=1)
    has_before = tf.concat([tf.zeros_like(mask[:, :1]), mask[:, :-1]], axis=1)
    opens = tf.logical_and(mask, tf.logical_or(tf.logical_not(has_before), before - ages >= gap_s))
    later_opens = tf.cumsum(tf.cast(opens, tf.int32), axis=1, exclusive=True, reverse=True)
    return opens, later_opens


def visit_cells(ages_s: tf.Tensor, mask: tf.Tensor, gap_s: float) -> tf.Tensor:
    """Each step's place in the user's visits, as one index in [0, CELLS).

    The index combines whether the user is away now (this request opens a new visit), whether
    the step opened a visit, and how many visits ago it happened (capped). A user back after
    days is best predicted by what opened their recent visits, a user mid-visit by the current
    visit; one learned weight per cell lets the model say so.
    """
    opens, later_opens = visit_starts(ages_s, mask, gap_s)
    visits_ago = tf.minimum(later_opens, VISITS_IN_VIEW - 1)
    away = tf.cast(opens_visit(ages_s, gap_s), tf.int32)[:, None]
    return (away * 2 + tf.cast(opens, tf.int32)) * VISITS_IN_VIEW + visits_ago
