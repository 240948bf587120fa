"""Visit cells: away now, the step that opened a visit, visits ago; and the opening rule."""

from __future__ import annotations

import tensorflow as tf

from rtrec import features as fk
from trainer.visits import VISITS_IN_VIEW, opens_visit, visit_cells


def test_visit_cells_tell_away_opening_and_visits_ago():
    pad, real = [9e6, -1.0], [False, False]  # garbage under the padding
    # Two visits, the second of three steps; asked 3000 s after it (away) or 10 s (mid-visit).
    away = tf.constant([pad + [90000.0, 89000.0, 5000.0, 4000.0, 3000.0]])
    here = away - 2990.0
    mask = tf.constant([real + [True] * 5])
    v = VISITS_IN_VIEW

    def cell(is_away, opens, ago):
        return (is_away * 2 + opens) * v + ago

    assert visit_cells(away, mask, 1800.0).numpy()[0, 2:].tolist() == [
        cell(1, 1, 1), cell(1, 0, 1), cell(1, 1, 0), cell(1, 0, 0), cell(1, 0, 0)
    ]  # fmt: skip
    assert visit_cells(here, mask, 1800.0).numpy()[0, 2:].tolist() == [
        cell(0, 1, 1), cell(0, 0, 1), cell(0, 1, 0), cell(0, 0, 0), cell(0, 0, 0)
    ]  # fmt: skip
    empty = tf.fill([1, 7], fk.PAD_AGE)  # an empty history is a first visit
    assert opens_visit(tf.concat([away, here, empty], 0), 1800.0).numpy().tolist() == [
        True, False, True
    ]  # fmt: skip
    # Eleven visits, one step each: visits further back than VISITS_IN_VIEW share its last cell.
    many = tf.constant([[10_000.0 * (10 - i) for i in range(11)]])
    ago = visit_cells(many, tf.ones([1, 11], tf.bool), 1800.0).numpy()[0] % v
    assert ago.tolist() == [v - 1] * 4 + [6, 5, 4, 3, 2, 1, 0]
