"""Augerino (Benton et al. 2020): every magnitude transform applied jointly
with a learned range, regularised by the norm of the ranges."""

import copy

from ..layers import AugmentationModule
from .base import Method, candidate_transforms

__all__ = ["AugerinoMethod", "augerino_augmentation"]


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


class AugerinoMethod(Method):
    """Augerino as Benton et al. (2020) train it (augerino/losses.py and
    experiments/*/train_augerino.py of their code): regulariser weight 0.01
    on the norm of the widths, one learning rate for the network and the
    widths."""

    name = "augerino"
    defaults = {
        "reg": 0.01,
        "aug_lr": 1.0,
        "magnitude_lr": 1.0,
        "reg_scale": "magnitude",
        "sampling": "mixture",
    }

    def build_policy(self, net):
        return augerino_augmentation(
            self.build_layers(net), net.augmentation_random_state()
        )
