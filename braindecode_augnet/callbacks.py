"""skorch callbacks recording the learned policy."""

import numpy as np
import torch
from skorch.callbacks import Callback

from .layers import augmentation_layers

__all__ = ["PolicyLogger"]


class PolicyLogger(Callback):
    """Write the augmentation policy to ``net.history`` at each epoch end.

    Keys written: ``train_nll`` and ``aug_reg`` (means over the epoch's
    training batches of the negative log-likelihood and of the regulariser:
    ``train_loss`` is ``train_nll - r * aug_reg``, ``r`` the regulariser's
    weight at that epoch, ``reg`` once ``reg_warmup`` is over (see
    ``current_reg``), which is why it can be negative; for the methods
    without a regulariser, ADDA, CADDA and ``'random'``, ``r`` is 0 and
    ``aug_reg`` is logged for information only: the value the regulariser
    would take on the current policy, not a term of the loss),
    ``policy_valid_loss`` for ADDA/CADDA (mean of the held-out loss after
    the virtual step, see :func:`~.unrolled_hypergradient`),
    ``aug_weights`` and ``aug_magnitudes`` (one list per layer:
    the weights of the candidates and their magnitudes; for involutions the
    magnitude is twice the learned probability).
    """

    def on_train_begin(self, net, **kwargs):
        """Refuse, before training, a module that holds no augmentation layers."""
        try:
            augmentation_layers(net.module_)
        except TypeError as err:
            raise TypeError(
                f"{err} PolicyLogger logs the policy of AugNet's augmentation "
                "layers: use it with AugNetClassifier (or a module holding "
                "AugmentationLayer or AugmentationModule)."
            ) from None

    def on_epoch_end(self, net, **kwargs):
        batches = net.history[-1]["batches"]
        for key in ("train_nll", "aug_reg", "policy_valid_loss"):
            values = [batch[key] for batch in batches if key in batch]
            if values:
                net.history.record(key, float(np.mean(values)))
        with torch.no_grad():
            layers = augmentation_layers(net.module_)
            net.history.record("aug_weights", [lay.weights.tolist() for lay in layers])
            net.history.record(
                "aug_magnitudes", [lay.magnitudes().tolist() for lay in layers]
            )
