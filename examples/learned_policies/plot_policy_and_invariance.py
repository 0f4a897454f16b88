"""
Reading a learned policy and measuring invariance
=================================================

AugNet learns an augmentation *policy*: in each augmentation layer, a weight
per candidate transform and a magnitude per transform. This example fits
:class:`~braindecode_augnet.AugNetClassifier` briefly on synthetic sleep
data (simulated nights, not real EEG), reads the policy with ``policy_`` and
:func:`~braindecode_augnet.plot_policy`, and then measures with
:func:`~braindecode_augnet.analysis.invariance` how invariant the resulting network is
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
# :func:`~braindecode_augnet.study.pipeline.load_sleep_windows` generates the
# synthetic sleep nights of
# :func:`~braindecode_augnet.datasets.make_synthetic_sleep` (no real EEG:
# two channels, ``Fpz-Cz`` and ``Pz-Oz``, at 100 Hz), preprocesses them (each
# channel of each night standardised) and cuts them into labelled 30-s
# windows. The subjects differ by nuisances an augmentation can undo: their
# alpha peak frequency, a mirrored montage (channels swapped) and a flipped
# polarity (their amplitude scale is undone by the standardisation). One
# subject is kept for testing. The windows are divided by the standard deviation of
# the training windows: the transforms' ranges are in the units of the data
# (e.g. a noise standard deviation up to 0.2), fractions of the signal's
# standard deviation once it is standardised.

import numpy as np
import pandas as pd
import torch

from braindecode_augnet.datasets import split_by_subject, windows_to_arrays
from braindecode_augnet.study.pipeline import load_sleep_windows

SEED = 0

# sphinx_gallery_start_ignore
# Documentation builds run on small, shared machines, where torch's threads
# fight for the cores: one thread is then several times faster.
import sys

if "sphinx_gallery" in sys.modules:
    torch.set_num_threads(1)
# sphinx_gallery_end_ignore

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
# surrogate, frequency shift), every transform starting at magnitude 0.1
# (the classifier's ``init_magnitude``). In training each window goes
# through one candidate per layer, drawn from the layer's weights
# (``sampling='sampled'``, AugNet's default; ``sampling='mixture'`` is the
# paper's weighted mixture of all candidates),
# with the regulariser warmed up over the first two epochs (``reg_warmup``,
# see :ref:`sphx_glr_auto_examples_sleep_staging_plot_sleep_staging.py`).
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
augnet = AugNetClassifier(augmentation="eeg", reg_warmup=2, n_copies=10, **common)
augnet.fit(X_train, y_train)

torch.manual_seed(SEED)
plain = EEGClassifier(**common)
plain.fit(X_train, y_train)

accuracy = {}
for name, clf in [("AugNet", augnet), ("no augmentation", plain)]:
    accuracy[name] = clf.score(X_test, y_test)
    print(f"{name}: test accuracy {accuracy[name]:.3f}")

# %%
# AugNet's ``train_loss`` is the negative log-likelihood *minus* ``reg``
# times the regulariser (``aug_reg``, the norm of the weighted magnitudes),
# which is why it sits below ``train_nll`` (and can turn negative): it
# cannot be compared with the plain network's ``train_loss``, a negative
# log-likelihood alone.

# %%
# The learned policy
# ------------------
#
# ``policy_`` is a :class:`pandas.DataFrame` with one row per candidate:
#
# * ``weight``: its weight in its layer (the softmax of learned logits; the
#   weights of a layer sum to one);
# * ``magnitude``: its learned magnitude in [0, 1];
# * ``probability``: the probability of augmenting an example. The
#   involutions (sign flip, time reversal, channel symmetry: operations that
#   undo themselves) learn it, as half their magnitude, on [0, 0.5], since
#   invariance to an involution is largest at probability 0.5; the other
#   transforms always apply (probability 1);
# * ``op_value``: the magnitude in the unit of the operation, e.g. the
#   largest frequency shift in Hz or the length of the time mask in samples
#   (for involutions, the probability);
# * ``mag_range`` and ``at_cap``: the range magnitudes 0 to 1 map onto, and
#   whether the magnitude sits at its top, where the value reported is the
#   range's limit rather than a learned value
#   (:func:`~braindecode_augnet.capped_transforms` says so in words).

from braindecode_augnet import capped_transforms

policy = augnet.policy_
columns = ["layer", "transform", "weight", "magnitude", "probability", "op_value"]
print(policy[columns].round(3).to_string(index=False))
print("\n".join(capped_transforms(policy)) or "No selected transform at its cap.")

# %%
# :func:`~braindecode_augnet.plot_policy` draws one row per layer: the
# weights (left) and the magnitudes (right) after each epoch, read from the
# classifier's ``history``, with their final values in the legend. The
# regulariser pushes the magnitudes up, the classification loss pulls down
# those of the transforms that destroy information the classes depend on,
# and the weights move towards the transforms the data tolerate best. The
# lines under the figure say, for this run, which candidate each layer
# weighs most and which magnitudes went up or down from their initial 0.1.

import matplotlib.pyplot as plt

from braindecode_augnet import plot_policy

# sphinx_gallery_thumbnail_number = 2
fig = plot_policy(augnet)

for layer, rows in policy.groupby("layer"):
    top = rows.loc[rows["weight"].idxmax()]
    change = rows.set_index("transform")["magnitude"].round(2)
    up = ", ".join(change.index[change > augnet.init_magnitude]) or "none"
    down = ", ".join(change.index[change < augnet.init_magnitude]) or "none"
    print(
        f"layer {layer}: most weighted {top['transform']} ({top['weight']:.2f}); "
        f"magnitude up: {up}; down: {down}"
    )

# %%
# Measuring invariance
# --------------------
#
# :func:`~braindecode_augnet.analysis.invariance` measures, as in the paper, how much a
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
# (``freeze()``) at a fixed strength. ``invariance`` applies a transform's
# operation to *every* example, whatever its probability, so ``T.SignFlip()``
# measures the invariance to sign flips: a sign flip, a random shuffle of the
# two channels and a time reversal, a channel dropout of one channel in two
# and a Fourier-transform surrogate with fully random phases.

from braindecode_augnet import invariance
from braindecode_augnet import transforms as T

probes = {
    "SignFlip": T.SignFlip(),
    "ChannelsShuffle": T.ChannelsShuffle(magnitude=1.0),
    "TimeReverse": T.TimeReverse(),
    "ChannelsDropout (p = 0.5)": T.ChannelsDropout(magnitude=0.5),
    "FTSurrogate (random phases)": T.FTSurrogate(magnitude=1.0),
}
for transform in probes.values():
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
scores = pd.DataFrame(
    {
        name: [
            invariance(model, X_test, tr, random_state=SEED)
            for model in models.values()
        ]
        for name, tr in probes.items()
    },
    index=list(models),
)
print(scores.round(2).T.to_string())

# %%
# A bar per model and transform:

fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
x = np.arange(len(probes))
width = 0.8 / len(models)
for i, name in enumerate(models):
    offset = (i - (len(models) - 1) / 2) * width
    ax.bar(x + offset, scores.loc[name], width, label=name)
ax.set_xticks(x, list(probes), rotation=25, ha="right", rotation_mode="anchor")
ax.set_ylabel("median invariance")
ax.set_ylim(min(0.0, scores.to_numpy().min() - 0.05), 1.05)
ax.set_title("Invariance to frozen transforms\n(synthetic sleep, test subject)")
fig.legend(loc="outside lower center", ncol=3, frameon=False)

# %%
# Invariance is not always desirable
# ----------------------------------
#
# Sleep stages are defined by frequency bands: a shift of a few hertz turns
# the alpha rhythm of wake (8-12 Hz) into the spindle band of N2 (11-15 Hz),
# so a good sleep stager must *not* be invariant to large frequency shifts.
# Measuring the invariance to ``FrequencyShift`` at growing maximal shifts
# shows how far each model tolerates them; the dashed line is the maximal
# shift AugNet learned (in the layer that weighs ``FrequencyShift`` most; when
# that weight is close to 0 the policy hardly applies the shift, and its
# magnitude says little).

rows = policy[policy["transform"] == "FrequencyShift"]
learned = rows.loc[rows["weight"].idxmax()]
max_shifts = np.array([1.0, 2.0, 3.0, 4.0])  # Hz, i.e. magnitudes / 5 Hz
curves = {
    name: [
        invariance(
            model,
            X_test,
            T.FrequencyShift(sfreq=sfreq, magnitude=hz / 5.0).freeze(),
            random_state=SEED,
        )
        for hz in max_shifts
    ]
    for name, model in models.items()
}
print(pd.DataFrame(curves, index=pd.Index(max_shifts, name="max shift (Hz)")).round(2))

fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
for name, values in curves.items():
    ax.plot(max_shifts, values, "o-", label=name)
ax.axvline(
    learned["op_value"],
    color="k",
    ls="--",
    lw=1,
    label=f"learned max shift (weight {learned['weight']:.2f})",
)
ax.set_xlabel("maximal frequency shift (Hz)")
ax.set_ylabel("median invariance")
ax.set_title("Invariance to frequency shifts")
fig.legend(loc="outside lower center", ncol=2, frameon=False)
plt.show()

# %%
# How to read these numbers:
#
# * averaging over copies makes the AugNet model invariant, by construction,
#   to what its layers apply with a high weight and magnitude; the transforms
#   the policy leaves out (or keeps weak) are not averaged away;
# * the network trained with augmented windows can also learn invariances
#   of its own: the AugNet trunk alone, fed raw windows, owes whatever
#   invariance it has beyond the plain network's to its augmented training;
# * a transform the policy rejected (a weight or magnitude close to 0) may
#   find the AugNet model *less* invariant than the plain network: nothing
#   in its training asked for that invariance;
# * the network trained without augmentation is invariant only to what the
#   data taught it: on these synthetic subjects, whose polarity and montage
#   vary, that already includes sign flips and channel swaps;
# * the AugNet model is itself random (its prediction averages randomly
#   augmented copies), so even the identity would score slightly below 1;
#   more copies (``n_copies``) reduce that noise;
# * the score compares the effect of a transform with the difference between
#   two windows, which is small when both are confidently put in the same
#   stage: that is why the *median* is reported, the mean is dominated by such
#   pairs.
#
# The lines below compare, probe by probe, the AugNet model and its trunk
# alone with the plain network, and then their test accuracies, as this
# run left them.
#
# With eight epochs and one test subject these accuracies are noisy. Where
# AugNet is behind the plain network (or only level with it), that is what
# this example's size leads one to expect: a network trained on augmented
# windows needs more epochs than one trained on raw windows, its layers'
# weights, learning at the trunk's rate, move little in eight epochs
# (benchmarks/README.rst, "On sleep data", "Training long enough"), and on
# four training subjects the policy it learns cannot be told from a random
# draw of the same transforms (the paired comparisons over 20 seeds x
# folds on :doc:`/results`). Let it train longer than this example for
# real use.


def relation(a, b):
    """How invariant ``a`` is next to ``b``, as the printed values read."""
    a, b = round(a, 2), round(b, 2)
    if a == b:
        return "as invariant as"
    return ("more" if a > b else "less") + " invariant than"


shift_scores = {
    f"FrequencyShift up to {hz:g} Hz": {name: curves[name][i] for name in models}
    for i, hz in enumerate(max_shifts)
}
for probe, values in {**scores.to_dict(), **shift_scores}.items():
    plain_value = values["no augmentation"]
    print(
        f"{probe}: AugNet {values['AugNet (10 copies)']:.2f} "
        f"({relation(values['AugNet (10 copies)'], plain_value)} no augmentation, "
        f"{plain_value:.2f}); trunk alone {values['AugNet trunk alone']:.2f} "
        f"({relation(values['AugNet trunk alone'], plain_value)} it)"
    )
a, b = round(accuracy["AugNet"], 3), round(accuracy["no augmentation"], 3)
verdict = "ahead of" if a > b else "behind" if a < b else "level with"
print(f"test accuracy: AugNet {a:.3f}, {verdict} no augmentation ({b:.3f})")

# %%
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
