"""Shared fixtures and test settings."""

import warnings
from pathlib import Path

import mne
import numpy as np
import pytest
import torch
from torch import nn

from braindecode_augnet import AugNetClassifier
from braindecode_augnet.base import DifferentiableTransform
from braindecode_augnet.transforms import FrequencyShift, GaussianNoise, SignFlip

warnings.filterwarnings("ignore", message="Montage name 'standard_1020'")

#: Real Sleep-EDF files for offline tests (see its README.md).
SLEEP_EDF = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sleep-edf"
PSG = SLEEP_EDF / "SC4001E0-PSG-first5min.edf"
HYP = SLEEP_EDF / "SC4001EC-Hypnogram.edf"
HYPNOGRAMS = sorted(SLEEP_EDF.glob("*-Hypnogram.edf"))


def require_sleep_edf():
    """Skip the calling test when the real Sleep-EDF files are absent."""
    if not PSG.is_file() or not HYP.is_file():
        pytest.skip(f"real Sleep-EDF test files not found in {SLEEP_EDF}")


@pytest.fixture
def fake_fetch(monkeypatch):
    """Make mne's fetcher return local files (as braindecode's tests do):
    ``fake_fetch([(psg, hypnogram), ...])`` returns the list of calls."""
    require_sleep_edf()
    calls = []

    def install(pairs):
        def fetch_data(subjects, recording=(1, 2), path=None, **kwargs):
            calls.append(dict(subjects=subjects, recording=recording, path=path))
            return [[str(p), str(h)] for p, h in pairs]

        monkeypatch.setattr(mne.datasets.sleep_physionet.age, "fetch_data", fetch_data)
        monkeypatch.setattr(
            "braindecode.datasets.sleep_physionet.fetch_data", fetch_data
        )
        return calls

    return install


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


class ScalarOnlyOffset(DifferentiableTransform):
    """Test helper: a random offset whose op value broadcasts against X only
    when it is one value (``self._op(X, params)``, no trailing axes)."""

    def _sample_op_params(self, X):
        return {"u": self._uniform((X.shape[0], 1, 1), X)}

    def apply_transform(self, X, params):
        return X + self._op(X, params) * (2 * params["u"] - 1)


class ChannelMean(DifferentiableTransform):
    """Test helper: returns ``(batch, times)``, not X's shape."""

    def apply_transform(self, X, params):
        return X.mean(dim=1)


class NumpyOut(DifferentiableTransform):
    """Test helper: returns a numpy array."""

    def apply_transform(self, X, params):
        return X.detach().numpy()


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


class SeqTrunk(nn.Module):
    """A tiny sequence trunk: :class:`Trunk` on every window, per-window
    logits ``(batch, n_outputs, n_windows)``; takes sequences ``(batch,
    n_windows, channels, times)`` or ``(batch, channels, n_windows * n_times)``."""

    def __init__(self, n_chans=2, n_outputs=2, n_times=100, sfreq=None, chs_info=None):
        super().__init__()
        self.window = Trunk(n_chans, n_outputs, n_times, sfreq, chs_info)
        self.n_times = n_times

    def forward(self, x):
        if x.ndim == 3:
            b, c, length = x.shape
            x = x.reshape(b, c, length // self.n_times, self.n_times).transpose(1, 2)
        b, s = x.shape[:2]
        logits = self.window(x.reshape(b * s, *x.shape[2:]))
        return logits.reshape(b, s, -1).transpose(1, 2)


def toy_data(n=64, n_chans=2, n_times=100, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = np.arange(n_times) / SFREQ
    freq = np.where(y == 0, 4.0, 12.0)[:, None, None]
    X = np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal((n, n_chans, n_times))
    return X.astype(np.float32), y


def toy_sequences(n=16, n_windows=4, n_chans=2, n_times=100, seed=0):
    """:func:`toy_data` windows as ``n`` sequences of ``n_windows``:
    ``X`` (n, n_windows, channels, times), ``y`` (n, n_windows)."""
    X, y = toy_data(n * n_windows, n_chans, n_times, seed)
    return X.reshape(n, n_windows, n_chans, n_times), y.reshape(n, n_windows)


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
