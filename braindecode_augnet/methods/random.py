"""TrivialAugment-style random augmentation: one candidate per example at a
random magnitude, nothing learned (a baseline of learned policies)."""

import copy

import torch
from torch import nn

from .._random import DeviceGenerators
from ..base import check_eeg_batch
from ..functional import is_compiling
from ..layers import apply_grouped, validate_transforms
from .base import Method, candidate_transforms

__all__ = ["RandomMethod", "RandomPolicy"]


class RandomPolicy(nn.Module):
    """TrivialAugment-style random augmentation over a candidate set.

    In training, each example gets one candidate drawn uniformly, at a
    magnitude drawn uniformly in [0, 1]; the drawn candidate is always
    applied (involutions too). Nothing is learned. In evaluation the
    examples pass unchanged, as with ordinary data augmentation.

    Parameters
    ----------
    transforms : list of DifferentiableTransform
        Candidate transforms (copies of them, with their learnable
        parameters frozen: the transforms passed are left as they are).
    random_state : int | None
        Seed of the choice of candidates and magnitudes.
    """

    def __init__(self, transforms, random_state=None):
        super().__init__()
        # one copy of the list: candidates sharing a generator still share one
        transforms = copy.deepcopy(validate_transforms(transforms))
        self.transforms = nn.ModuleList(transforms)
        for param in self.transforms.parameters():
            param.requires_grad_(False)
        self._rng = DeviceGenerators(random_state)
        self.candidates_checked = False

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
        checked = getattr(self, "candidates_checked", True)  # older pickles
        if not checked and X.shape[0] and not is_compiling():
            self.check_candidates(X)
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

    def check_candidates(self, X):
        """Apply each candidate once to ``X`` at one magnitude per example,
        from draws of its own (those of training are not changed), naming
        the candidate and the fix where it fails or returns no tensor of
        ``X``'s shape. Called on the first training batch."""
        for tr in self.transforms:
            tr._checked_full_range(X)
        self.candidates_checked = True


class RandomMethod(Method):
    """:class:`RandomPolicy` over the candidates: plain data augmentation,
    no regulariser, no copies at inference."""

    name = "random"
    defaults = {
        "reg": 0,
        "aug_lr": 1.0,
        "magnitude_lr": 1.0,
        "reg_scale": "magnitude",
        "sampling": "mixture",
    }
    averages_copies = False

    def build_policy(self, net):
        return RandomPolicy(
            candidate_transforms(self.build_layers(net)),
            net.augmentation_random_state(),
        )
