"""braindecode-augnet: AugNet for braindecode.

Invariances learned from the training data, with augmentation inside the
network (Rommel, Moreau & Gramfort, NeurIPS 2022).
"""

# The old path braindecode_augnet.invariance (a module) is imported before the
# function of the same name is bound below, so that importing the old path later
# does not replace the function.
from . import invariance as _invariance_module  # noqa: F401
from ._version import __version__
from .analysis import (
    capped_transforms,
    fixed_transforms,
    invariance,
    invariance_scores,
    plot_policy,
    policy_table,
    unsettled_transforms,
)
from .base import DifferentiableTransform, Involution
from .baselines import RandomPolicy, augerino_augmentation
from .bilevel import BilevelPolicy, UnrolledPolicySearch, unrolled_hypergradient
from .callbacks import PolicyLogger
from .classifier import AugNetClassifier
from .distributed import AcceleratedAugNetClassifier
from .layers import AugmentationLayer, AugmentationModule, augmentation_layers
from .model import AugNet
from .presets import eeg_augmentation, sinusoid_augmentation
from .regularization import augmentation_regularizer, augnet_loss

__all__ = [
    "AcceleratedAugNetClassifier",
    "AugNet",
    "AugNetClassifier",
    "AugmentationLayer",
    "AugmentationModule",
    "BilevelPolicy",
    "DifferentiableTransform",
    "Involution",
    "PolicyLogger",
    "RandomPolicy",
    "UnrolledPolicySearch",
    "__version__",
    "augerino_augmentation",
    "augmentation_layers",
    "augmentation_regularizer",
    "augnet_loss",
    "capped_transforms",
    "eeg_augmentation",
    "fixed_transforms",
    "invariance",
    "invariance_scores",
    "plot_policy",
    "policy_table",
    "sinusoid_augmentation",
    "unrolled_hypergradient",
    "unsettled_transforms",
]
