"""AugNet (Rommel, Moreau & Gramfort, NeurIPS 2022): the default method."""

from .base import Method

__all__ = ["AugNetMethod", "AUGNET_DEFAULTS"]

#: AugNet's defaults, one home for the estimator and the sleep pipeline:
#: regulariser weight, what it rewards (see :func:`~.augmentation_regularizer`),
#: the learning rates of the layers' weights and of the magnitudes as
#: multiples of the trunk's (the weights at the trunk's rate, the sleep
#: pipeline's setting), and the layers' training mode: one candidate drawn
#: per example (``'sampled'``) rather than the paper's mixture of all of
#: them (the paired comparisons behind each value: docs/results.rst).
AUGNET_DEFAULTS = {
    "reg": 0.1,
    "aug_lr": 1.0,
    "magnitude_lr": 3.0,
    "reg_scale": "displacement",
    "sampling": "sampled",
}


class AugNetMethod(Method):
    """The layers as given, learned with the data term and the regulariser;
    ``n_copies`` augmented copies averaged at inference."""

    name = "augnet"
    defaults = AUGNET_DEFAULTS
