"""Small trunks for the sinusoid toy problem of the AugNet paper.

Two trunks of different inductive biases for
:func:`~braindecode_augnet.datasets.make_sinusoids`: a fully connected
network on the raw samples (nothing in it is invariant to frequency shifts)
and a small convolutional network. Both take the signal arguments that
:class:`braindecode.EEGClassifier` fills in from the data (``n_chans``,
``n_times``, ``n_outputs``), so they can be passed as classes. The tests, the
sinusoid gallery example and ``benchmarks/study_sinusoid_policy.py`` use
them, with the training settings of ``SINUSOID_TRAINING``: the claim "the
learned range matches the data's invariance whatever the trunk" is checked on
both.
"""

import torch
from torch import nn

__all__ = ["SINUSOID_TRAINING", "ToyConvNet", "ToyMLP"]

#: Training settings of the sinusoid experiments, as keyword arguments of a
#: braindecode/skorch classifier: Adam at 3e-3, batches of 64, 30 epochs, every
#: example used for training (no validation split, no dropped batch), quiet.
SINUSOID_TRAINING = {
    "max_epochs": 30,
    "lr": 3e-3,
    "batch_size": 64,
    "train_split": None,
    "optimizer": torch.optim.Adam,
    "iterator_train__drop_last": False,
    "verbose": 0,
}


class ToyMLP(nn.Module):
    """Fully connected trunk on the raw samples.

    Parameters
    ----------
    hidden : int
        Units per hidden layer.
    depth : int
        Number of hidden layers.
    n_chans, n_times, n_outputs : int
        Channels and time samples of the input, number of classes.
    **kwargs
        Other signal arguments of braindecode models, ignored.

    Examples
    --------
    >>> import torch
    >>> ToyMLP(n_times=1000)(torch.randn(3, 1, 1000)).shape
    torch.Size([3, 4])
    """

    def __init__(
        self, hidden=32, depth=1, n_chans=1, n_times=1000, n_outputs=4, **kwargs
    ):
        super().__init__()
        layers, width = [nn.Flatten()], n_chans * n_times
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, n_outputs))

    def forward(self, x):
        return self.net(x)


class ToyConvNet(nn.Module):
    """Two convolutions, pooled to 8 steps, then a linear layer.

    Parameters
    ----------
    width : int
        Filters per convolution.
    n_chans, n_times, n_outputs : int
        Channels and time samples of the input, number of classes.
    **kwargs
        Other signal arguments of braindecode models, ignored.

    Examples
    --------
    >>> import torch
    >>> ToyConvNet()(torch.randn(3, 1, 1000)).shape
    torch.Size([3, 4])
    """

    def __init__(self, width=8, n_chans=1, n_times=1000, n_outputs=4, **kwargs):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(n_chans, width, 25, stride=2),
            nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Conv1d(width, width, 9),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(8),
            nn.Flatten(),
            nn.Linear(8 * width, n_outputs),
        )

    def forward(self, x):
        return self.net(x)
