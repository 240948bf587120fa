"""Offline quality evaluation: interaction logs, split protocols, ranking metrics and baselines.

Everything here is numpy/scipy/pandas only, so the harness runs (and is tested) without
TensorFlow; the rtrec model joins the comparison through the ``Recommender`` protocol.
"""
