"""Shared fixtures and test settings."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from braindecode_augnet import AugNetClassifier
from braindecode_augnet.base import DifferentiableTransform
from braindecode_augnet.transforms import FrequencyShift, GaussianNoise, SignFlip

warnings.filterwarnings("ignore", message="Montage name 'standard_1020'")

TEN_TWENTY = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "Fz", "Cz"]


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


class Negate(DifferentiableTransform):
    """Test helper: always negates every example (a deterministic op)."""

    def apply_transform(self, X, params):
        return -X


class Reverse(DifferentiableTransform):
    """Test helper: always reverses every example in time."""

    def apply_transform(self, X, params):
        return X.flip(-1)


@pytest.fixture
def ch_names():
    return list(TEN_TWENTY)


# ------------------------------------------------ a tiny classification task
SFREQ = 50.0


class Trunk(nn.Module):
    """A tiny trunk with braindecode's signal arguments."""

    def __init__(self, n_chans=2, n_outputs=2, n_times=100, sfreq=None, chs_info=None):
        super().__init__()
        n_chans = len(chs_info) if chs_info else n_chans
        self.conv = nn.Conv1d(n_chans, 4, 9, padding=4)
        self.out = nn.Linear(4, n_outputs)

    def forward(self, x):
        return self.out(torch.relu(self.conv(x)).mean(-1))


def toy_data(n=64, n_chans=2, n_times=100, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = np.arange(n_times) / SFREQ
    freq = np.where(y == 0, 4.0, 12.0)[:, None, None]
    X = np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal((n, n_chans, n_times))
    return X.astype(np.float32), y


def layers():
    return [[SignFlip(), GaussianNoise()], [FrequencyShift(sfreq=SFREQ)]]


def make_clf(**kwargs):
    params = dict(
        module=Trunk,
        augmentation=layers(),
        reg=0.5,
        n_copies=3,
        max_epochs=2,
        lr=1e-2,
        batch_size=16,
        train_split=None,
        iterator_train__drop_last=False,
        verbose=0,
        random_state=0,
    )
    params.update(kwargs)
    return AugNetClassifier(**params)
