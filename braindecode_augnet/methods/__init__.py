"""The methods of ``AugNetClassifier(method=...)``: one strategy per value.

Each strategy (a :class:`~.base.Method` subclass, one file each) holds its
defaults, builds its policy from the augmentation layers, gives the policy's
parameter groups, the copies averaged at inference, and its training-step
hook; the estimator delegates to ``METHODS[method]``. A new method is a new
file and a line in :data:`METHODS`.
"""

from .augerino import AugerinoMethod, augerino_augmentation
from .augnet import AUGNET_DEFAULTS, AugNetMethod
from .base import Method, candidate_transforms
from .bilevel import (
    ADDAMethod,
    BilevelPolicy,
    CADDAMethod,
    UnrolledPolicySearch,
    unrolled_hypergradient,
)
from .random import RandomMethod, RandomPolicy

__all__ = [
    "ADDAMethod",
    "AUGNET_DEFAULTS",
    "AugNetMethod",
    "AugerinoMethod",
    "BilevelPolicy",
    "CADDAMethod",
    "METHODS",
    "Method",
    "RandomMethod",
    "RandomPolicy",
    "UnrolledPolicySearch",
    "augerino_augmentation",
    "candidate_transforms",
    "unrolled_hypergradient",
]

#: ``method=`` value -> strategy class.
METHODS = {
    cls.name: cls
    for cls in (AugNetMethod, AugerinoMethod, RandomMethod, ADDAMethod, CADDAMethod)
}
