"""Old home of the baselines, kept so that imports and pickles still work.

They live in :mod:`braindecode_augnet.methods` (``random``, ``augerino``).
"""

from .methods.augerino import augerino_augmentation
from .methods.base import candidate_transforms
from .methods.random import RandomPolicy

__all__ = ["RandomPolicy", "augerino_augmentation", "candidate_transforms"]
