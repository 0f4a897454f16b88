"""Reading what a fitted AugNet learned: policy tables, invariance, plots.

:mod:`.policy` turns the layers' weights and magnitudes into tables,
:mod:`.invariance` measures how invariant a model is to a transform, and
:mod:`.plotting` draws the policy and its trajectory over training.
"""

from .invariance import invariance, invariance_scores
from .plotting import plot_policy
from .policy import (
    capped_transforms,
    fixed_transforms,
    history_arrays,
    policy_table,
    unsettled_transforms,
)

__all__ = [
    "capped_transforms",
    "fixed_transforms",
    "history_arrays",
    "invariance",
    "invariance_scores",
    "plot_policy",
    "policy_table",
    "unsettled_transforms",
]
