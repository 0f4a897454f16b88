"""Baselines that learned policies are compared against.

- :class:`RandomPolicy`: TrivialAugment-style random augmentation, one
  candidate per example at a random magnitude, nothing learned.
- :func:`augerino_augmentation`: Augerino-style layers (Benton et al. 2020):
  every magnitude transform applied jointly with a learned range; used by
  ``AugNetClassifier(method='augerino')``, whose regulariser then reduces to
  the norm of the learned widths.
"""

import copy

import torch
from torch import nn

from ._random import DeviceGenerators
from .base import check_eeg_batch
from .layers import (
    AugmentationModule,
    apply_grouped,
    augmentation_layers,
    validate_transforms,
)

__all__ = ["RandomPolicy", "augerino_augmentation", "candidate_transforms"]


def candidate_transforms(augmentation):
    """All candidate transforms of an augmentation spec, in order.

    Parameters
    ----------
    augmentation : AugmentationModule | list of list of transforms
        Layers of candidates.

    Returns
    -------
    list of DifferentiableTransform
    """
    if isinstance(augmentation, nn.Module):
        return [
            tr for layer in augmentation_layers(augmentation) for tr in layer.transforms
        ]
    return [tr for layer in augmentation for tr in layer]


class RandomPolicy(nn.Module):
    """TrivialAugment-style random augmentation over a candidate set.

    In training, each example gets one candidate drawn uniformly, at a
    magnitude drawn uniformly in [0, 1]; the drawn candidate is always
    applied (involutions too). Nothing is learned. In evaluation the
    examples pass unchanged, as with ordinary data augmentation.

    Parameters
    ----------
    transforms : list of DifferentiableTransform
        Candidate transforms (their learnable parameters are frozen).
    random_state : int | None
        Seed of the choice of candidates and magnitudes.
    """

    def __init__(self, transforms, random_state=None):
        super().__init__()
        self.transforms = nn.ModuleList(validate_transforms(transforms))
        for param in self.transforms.parameters():
            param.requires_grad_(False)
        self._rng = DeviceGenerators(random_state)

    def augmentation_layers(self):
        """No learned layers: an empty list (the regulariser is 0)."""
        return []

    def forward(self, X):
        """Augment a batch ``(batch, channels, times)``."""
        return self.augment(check_eeg_batch(X))

    def augment(self, X):
        """Augment an already validated batch (no input checks)."""
        if not self.training:
            return X
        n_batch, n_candidates = X.shape[0], len(self.transforms)
        uniform = torch.full((n_candidates,), 1.0 / n_candidates, device=X.device)
        choice = self._rng.categorical(uniform, n_batch)
        magnitudes = self._rng.uniform((n_batch,), X)

        def apply(k, part, index):
            tr = self.transforms[k]
            params = tr.sample_params(part)
            params["magnitude"] = magnitudes[index]
            return tr.apply_transform(part, params)  # always applied

        return apply_grouped(X, choice, n_candidates, apply)


def augerino_augmentation(augmentation, random_state=None):
    """Augerino-style layers from a candidate set.

    Every candidate with a magnitude range becomes a layer of its own (so
    all are applied jointly, each with its learned range); involutions,
    whose magnitude is a probability, are dropped. With one transform per
    layer the AugNet regulariser is the norm of the learned widths,
    Augerino's regulariser.

    Parameters
    ----------
    augmentation : AugmentationModule | list of list of transforms
        The candidate set.
    random_state : int | None
        Seed of the layers.

    Returns
    -------
    AugmentationModule
    """
    candidates = [
        copy.deepcopy(tr)
        for tr in candidate_transforms(augmentation)
        if not tr.learns_probability
    ]
    if not candidates:
        raise ValueError(
            "Augerino needs at least one transform with a magnitude range (not "
            "only involutions such as SignFlip)."
        )
    for tr in candidates:
        tr.probability = 1.0
    return AugmentationModule([[tr] for tr in candidates], random_state=random_state)
