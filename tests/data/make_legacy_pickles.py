"""Write the compatibility references of the estimator (one per ``method=``).

Run once, with the code whose behaviour is the reference (main at 442fb1c,
before the estimator was split into method strategies)::

    OMP_NUM_THREADS=1 python -m tests.data.make_legacy_pickles

For each method it fits a tiny :class:`~braindecode_augnet.AugNetClassifier`
with fixed seeds on synthetic data and writes to ``tests/data/legacy/``:

- ``<method>.pkl``: the fitted estimator, pickled (old module paths);
- ``expected.json``: per method, the SHA-256 of the fitted module's
  ``state_dict`` and where it was computed (torch version, CPU capability);
- ``expected.npz``: per method, ``predict_proba`` on :func:`make_data`'s
  test inputs.

``tests/test_methods.py`` loads every pickle with today's code and checks
the recorded predictions, and refits with :func:`make_clf` to check the
hashes (bit-exact when torch and the CPU capability are the recorded ones).
"""

import hashlib
import json
import pickle
import platform
from pathlib import Path

import numpy as np
import torch
from torch import nn

from braindecode_augnet import AugNetClassifier
from braindecode_augnet.transforms import (
    AmplitudeScale,
    FrequencyShift,
    GaussianNoise,
    SignFlip,
    TimeReverse,
)

HERE = Path(__file__).resolve().parent / "legacy"
METHODS = ("augnet", "augerino", "random", "adda", "cadda")
SFREQ, N_CHANS, N_TIMES, N_CLASSES = 50.0, 2, 100, 3
LR = 1e-2


def make_data(n=48, seed=0):
    """``(X, y, X_test)``: sinusoids of 3 frequencies plus noise, float32."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, n)
    t = np.arange(N_TIMES) / SFREQ
    freq = np.array([4.0, 8.0, 12.0])[y][:, None, None]
    X = np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal((n, N_CHANS, N_TIMES))
    X = X.astype(np.float32)
    return X, y, X[:10]


def make_trunk():
    """A tiny trunk of torch layers only (the pickle names no test module)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv1d(N_CHANS, 4, 9, padding=4),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(4, N_CLASSES),
    )


def make_clf(method, **kwargs):
    """The estimator of ``method``, unfitted, with the reference's settings."""
    augmentation = [
        [SignFlip(), GaussianNoise(), FrequencyShift(sfreq=SFREQ)],
        [TimeReverse(), AmplitudeScale()],
    ]
    params = dict(
        augmentation=augmentation,
        method=method,
        n_copies=3,
        max_epochs=2,
        lr=LR,
        batch_size=16,
        train_split=None,
        iterator_train__drop_last=False,
        verbose=0,
        random_state=0,
    )
    if method == "cadda":  # the code of 442fb1c needs the classes before fit
        params["classes"] = list(range(N_CLASSES))
    if method == "augnet":  # the defaults of 442fb1c, explicit since they changed
        params["aug_lr"] = 10 * LR
        params["sampling"] = "mixture"
    params.update(kwargs)
    return AugNetClassifier(make_trunk(), **params)


def state_hash(clf):
    """SHA-256 of the fitted module's parameters and buffers, in order (the
    module's extra state, the class labels, left out)."""
    digest = hashlib.sha256()
    for name, value in clf.module_.state_dict().items():
        if name.endswith("_extra_state"):
            continue
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def platform_info():
    return {
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.machine(),
    }


def main():
    torch.set_num_threads(1)
    HERE.mkdir(exist_ok=True)
    X, y, X_test = make_data()
    hashes, probas = {}, {}
    for method in METHODS:
        clf = make_clf(method).fit(X, y)
        hashes[method] = state_hash(clf)
        probas[method] = clf.predict_proba(X_test)
        (HERE / f"{method}.pkl").write_bytes(pickle.dumps(clf))
        print(method, hashes[method][:12], probas[method][0])
    info = {"platform": platform_info(), "hashes": hashes}
    (HERE / "expected.json").write_text(json.dumps(info, indent=1) + "\n")
    np.savez(HERE / "expected.npz", **probas)


if __name__ == "__main__":
    main()
