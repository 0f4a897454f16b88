"""
Reading a learned policy and measuring invariance
=================================================

AugNet learns an augmentation *policy*: in each augmentation layer, a weight
per candidate transform and a magnitude (or a probability) per transform.
This example fits :class:`~braindecode_augnet.AugNetClassifier` briefly on
synthetic sleep data, reads the policy with ``policy_`` and
:func:`~braindecode_augnet.plot_policy`, and then measures with
:func:`~braindecode_augnet.invariance` how invariant the resulting network is
to a few transforms, compared to the same network trained without
augmentation.
"""

# Authors: braindecode-augnet developers
#
# License: BSD (3-clause)

# %%
# Synthetic sleep data
# --------------------
#
# :func:`~braindecode_augnet.pipeline.load_sleep_windows` generates the
# synthetic sleep nights of
# :func:`~braindecode_augnet.datasets.make_synthetic_sleep` (no real EEG:
# two channels, ``Fpz-Cz`` and ``Pz-Oz``, at 100 Hz), preprocesses them and
# cuts them into labelled 30-s windows. The subjects differ by nuisances an
# augmentation can undo: their alpha peak frequency, a mirrored montage
# (channels swapped), a flipped polarity and an amplitude scale. One subject
# is kept for testing.

import numpy as np
import pandas as pd
import torch

from braindecode_augnet.datasets import split_by_subject, windows_to_arrays
from braindecode_augnet.pipeline import load_sleep_windows

SEED = 0
windows = load_sleep_windows("synthetic", n_subjects=5, n_hours=1.0, verbose=False)
print(
    windows.description[
        ["subject", "alpha_peak_hz", "channels_swapped", "polarity_flipped"]
    ].to_string(index=False)
)

train_set, _, test_set = split_by_subject(
    windows, test_size=1, valid_size=0, random_state=SEED
)
X_train, y_train, _ = windows_to_arrays(train_set)
X_test, y_test, _ = windows_to_arrays(test_set)
scale = X_train.std()
X_train, X_test = X_train / scale, X_test / scale
sfreq = windows.datasets[0].raw.info["sfreq"]
print(f"train {X_train.shape}, test {X_test.shape}")

# %%
# Fitting AugNet and a plain network
# ----------------------------------
#
# The trunk is the sleep stager of Chambon et al. (2018). AugNet puts the
# paper's EEG preset in front of it (``augmentation="eeg"``): a spatial layer
# (sign flip, channel dropout, channel shuffle) and two time-frequency layers
# (time reversal, Gaussian noise, smooth time mask, Fourier-transform
# surrogate, frequency shift), every transform starting at magnitude 0.5.
# Both networks start from the same initialisation and see the same batches.

from braindecode import EEGClassifier
from braindecode.models import SleepStagerChambon2018

from braindecode_augnet import AugNetClassifier

common = dict(
    module=SleepStagerChambon2018,
    module__n_chans=X_train.shape[1],
    module__n_times=X_train.shape[2],
    module__n_outputs=5,
    module__sfreq=sfreq,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    batch_size=64,
    max_epochs=8,
    train_split=None,
    classes=np.arange(5),
)

torch.manual_seed(SEED)
augnet = AugNetClassifier(augmentation="eeg", reg=0.5, n_copies=10, **common)
augnet.fit(X_train, y_train)

torch.manual_seed(SEED)
plain = EEGClassifier(**common)
plain.fit(X_train, y_train)

for name, clf in [("AugNet", augnet), ("no augmentation", plain)]:
    print(f"{name}: test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# The learned policy
# ------------------
#
# ``policy_`` is a :class:`pandas.DataFrame` with one row per candidate:
#
# * ``weight``: its weight in its layer (the softmax of learned logits; the
#   weights of a layer sum to one);
# * ``magnitude``: its learned magnitude in [0, 1] (NaN for the transforms
#   without one: sign flip, time reversal and channel symmetry, which learn
#   their ``probability`` instead);
# * ``op_value``: the magnitude in the unit of the operation, e.g. the
#   largest frequency shift in Hz or the length of the time mask in samples.

policy = augnet.policy_
print(policy.round(3).to_string(index=False))

# %%
# :func:`~braindecode_augnet.plot_policy` draws one column per layer: the
# final weights and magnitudes (top), then the weights (middle) and the
# magnitudes (bottom) after each epoch, read from the classifier's
# ``history``. The regulariser pushes the magnitudes up, the classification
# loss pulls down those of the transforms that destroy information the
# classes depend on, and the weights move towards the transforms the data
# tolerate best.

import matplotlib.pyplot as plt

from braindecode_augnet import plot_policy

fig = plot_policy(augnet)

# %%
# Measuring invariance
# --------------------
#
# :func:`~braindecode_augnet.invariance` measures, as in the paper, how much a
# transform ``T`` moves a model's output compared with changing the example:
#
# .. math::
#
#     1 - \frac{d(f(x), f(Tx))}{d(f(x), f(x'))}
#
# with ``d`` the cosine distance and ``x'`` another test window drawn at
# random. It is 1 for a model invariant to ``T`` and 0 when ``T`` changes the
# output as much as changing the window; the median over the test windows is
# returned.
#
# The transforms come from :mod:`braindecode_augnet.transforms`, frozen
# (``freeze()``) at a fixed strength: a sign flip, a random shuffle of the two
# channels and a time reversal, always applied, and a frequency shift and a
# Gaussian noise at the magnitudes AugNet learned for them (in the layer where
# each has its largest weight). The identity comes first, as a control.

from braindecode_augnet import invariance
from braindecode_augnet import transforms as T


def most_weighted(name):
    """The policy's row of ``name`` in the layer that weighs it most."""
    rows = policy[policy["transform"] == name]
    return rows.loc[rows["weight"].idxmax()]


shift, noise = most_weighted("FrequencyShift"), most_weighted("GaussianNoise")
probes = {
    "identity\n(control)": torch.nn.Identity(),
    "SignFlip": T.SignFlip(probability=1.0),
    "ChannelsShuffle": T.ChannelsShuffle(magnitude=1.0),
    "TimeReverse": T.TimeReverse(probability=1.0),
    f"FrequencyShift\n(max {shift.op_value:.1f} Hz)": T.FrequencyShift(
        sfreq=sfreq, magnitude=shift.magnitude
    ),
    f"GaussianNoise\n(std {noise.op_value:.2f})": T.GaussianNoise(
        magnitude=noise.magnitude
    ),
}
for transform in list(probes.values())[1:]:
    transform.freeze()

# %%
# Three models are compared: the AugNet model (the average of the trunk's
# predictions over 10 augmented copies, what ``predict`` uses), the trunk of
# AugNet alone (trained on augmented windows but fed the raw ones), and the
# network trained without augmentation.

models = {
    "AugNet (10 copies)": augnet,
    "AugNet trunk alone": augnet.module_.trunk,
    "no augmentation": plain,
}
scores = np.array(
    [
        [invariance(model, X_test, tr, random_state=SEED) for tr in probes.values()]
        for model in models.values()
    ]
)
print(
    pd.DataFrame(
        scores, index=list(models), columns=[name.replace("\n", " ") for name in probes]
    )
    .round(2)
    .T.to_string()
)

# %%
# A bar per model and transform:

fig, ax = plt.subplots(figsize=(10, 4))
x = np.arange(len(probes))
width = 0.8 / len(models)
for i, (name, row) in enumerate(zip(models, scores)):
    ax.bar(x + (i - (len(models) - 1) / 2) * width, row, width, label=name)
ax.axhline(0, color="k", lw=0.8)
ax.set_xticks(x, list(probes), fontsize=8)
ax.set_ylabel("median invariance")
ax.set_ylim(min(0.0, scores.min() - 0.05), 1.05)
ax.set_title("Invariance to frozen transforms (synthetic sleep, test subject)")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %%
# How to read these numbers:
#
# * the AugNet model is itself random: its prediction averages 10 randomly
#   augmented copies, so two evaluations of the same window differ a little
#   and even the identity (the control) scores below 1. More copies
#   (``n_copies``) bring it closer to 1;
# * averaging over copies makes the AugNet model invariant, by construction,
#   to what its layers apply with a high weight and magnitude; the transforms
#   the policy leaves out (or keeps weak) are not averaged away;
# * its trunk alone, fed raw windows, inherits part of that invariance from
#   having been trained on augmented ones;
# * the network trained without augmentation is invariant only to what the
#   data taught it: on these synthetic subjects, whose polarity and montage
#   vary, that already includes much of the sign flips and channel swaps.
#
# AugNet also fits more slowly than the plain network, as its training windows
# are augmented: after the few epochs of this example its accuracy is still
# behind. Let it train longer for real use.
#
# References
# ----------
#
# - Chambon, S., Galtier, M., Arnal, P., Wainrib, G. and Gramfort, A. (2018).
#   A deep learning architecture for temporal sleep stage classification using
#   multivariate and multimodal time series. IEEE Transactions on Neural
#   Systems and Rehabilitation Engineering, 26(4).
# - Rommel, C., Moreau, T. and Gramfort, A. (2022). Deep invariant networks
#   with differentiable augmentation layers. Advances in Neural Information
#   Processing Systems (NeurIPS).
