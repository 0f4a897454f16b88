"""braindecode-augnet: AugNet for braindecode.

Invariances learned from the training data, with augmentation inside the
network (Rommel, Moreau & Gramfort, NeurIPS 2022).
"""

from ._version import __version__
from .base import DifferentiableTransform

__all__ = ["DifferentiableTransform", "__version__"]
