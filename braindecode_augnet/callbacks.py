"""skorch callbacks recording the learned policy."""

import numpy as np
import torch
from skorch.callbacks import Callback

from .layers import augmentation_layers

__all__ = ["PolicyLogger"]


class PolicyLogger(Callback):
    """Write the augmentation policy to ``net.history`` at each epoch end.

    Keys written: ``aug_reg`` (mean regulariser value over the epoch's
    training batches), ``aug_weights`` and ``aug_magnitudes`` (one list per
    layer: the weights of the candidates and their magnitudes; for
    involutions the magnitude is twice the learned probability).
    """

    def on_epoch_end(self, net, **kwargs):
        values = [
            batch["aug_reg"]
            for batch in net.history[-1]["batches"]
            if "aug_reg" in batch
        ]
        if values:
            net.history.record("aug_reg", float(np.mean(values)))
        with torch.no_grad():
            layers = augmentation_layers(net.module_)
            net.history.record("aug_weights", [lay.weights.tolist() for lay in layers])
            net.history.record(
                "aug_magnitudes", [lay.magnitudes().tolist() for lay in layers]
            )
