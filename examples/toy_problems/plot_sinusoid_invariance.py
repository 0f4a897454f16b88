"""
Learning the invariance of noisy sinusoids
==========================================

The toy problem of Rommel, Moreau & Gramfort (NeurIPS 2022): the class of a
signal is its frequency, ``f`` in {2, 4, 6, 8} Hz, up to a jitter ``delta``
drawn uniformly in [-0.5, 0.5] Hz. A classifier should therefore be invariant
to frequency shifts of about +-0.5 Hz, and to nothing stronger.

We give AugNet one augmentation layer with three candidates,
``FrequencyShift`` (maximal shift 0-2 Hz), ``FTSurrogate`` (phase noise
0-0.1) and ``GaussianNoise`` (standard deviation 0-0.1), and let it learn
from the training data alone which one to use and how strongly. We then
compare the invariance of the learned model to that of the same trunk trained
without augmentation, for a tiny and a larger trunk.
"""

# Authors: braindecode-augnet developers
# License: BSD-3-Clause

# %%
# Data
# ----
# 150 signals per class for training and as many for testing, 10 s at 100 Hz,
# with additive white noise of standard deviation 0.5. The signals are of
# order 1 (unit amplitude): the transforms' ranges are in these units, e.g.
# a Gaussian noise of standard deviation up to 0.1.
import matplotlib.pyplot as plt
import numpy as np
import torch
from braindecode import EEGClassifier
from torch import nn

from braindecode_augnet import (
    AugNetClassifier,
    invariance,
    plot_policy,
    sinusoid_augmentation,
)
from braindecode_augnet.datasets import make_sinusoids
from braindecode_augnet.transforms import FrequencyShift

X, y = make_sinusoids(random_state=0)
X_test, y_test = make_sinusoids(random_state=1)
print(X.shape, np.bincount(y))

fig, ax = plt.subplots(figsize=(6.4, 2.8), layout="constrained")
t = np.arange(X.shape[-1]) / 100
for label in range(4):
    ax.plot(t[:300], X[y == label][0, 0, :300] + 3 * label, lw=0.8)
ax.set_yticks([0, 3, 6, 9], ["2 Hz", "4 Hz", "6 Hz", "8 Hz"])
ax.set_xlabel("time (s)")
ax.set_title("One training signal per class (first 3 s)")


# %%
# Trunks
# ------
# Fully connected networks on the raw samples: nothing in their architecture
# makes them invariant to frequency shifts. The classifiers fill in the
# signal arguments of a braindecode model (``n_chans``, ``n_times``,
# ``n_outputs``) from the data, so the trunk accepts them.
class MLP(nn.Module):
    def __init__(self, hidden=32, depth=1, n_chans=1, n_times=1000, n_outputs=4):
        super().__init__()
        layers, width = [nn.Flatten()], n_chans * n_times
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, n_outputs))

    def forward(self, x):
        return self.net(x)


training = dict(
    max_epochs=30,
    lr=3e-3,
    batch_size=64,
    train_split=None,
    optimizer=torch.optim.Adam,
    iterator_train__drop_last=False,
    verbose=0,
)
trunks = {
    "tiny (1 x 32)": dict(hidden=32, depth=1),
    "larger (2 x 256)": dict(hidden=256, depth=2),
}

# %%
# Training
# --------
# AugNet's loss is the negative log-likelihood of the averaged model minus
# ``reg`` times the norm of the weighted magnitudes (so its ``train_loss``
# can be negative, unlike the plain network's); it averages 20 augmented
# copies at inference.
shift = FrequencyShift(sfreq=100, magnitude=0.25, mag_range=(0, 2)).freeze()
results, models = {}, {}
for name, kwargs in trunks.items():
    module_kwargs = {f"module__{k}": v for k, v in kwargs.items()}
    torch.manual_seed(0)
    baseline = EEGClassifier(MLP, **module_kwargs, **training).fit(X, y)
    torch.manual_seed(0)
    augnet = AugNetClassifier(
        MLP,
        **module_kwargs,
        augmentation=sinusoid_augmentation(sfreq=100),
        reg=0.5,
        n_copies=20,
        random_state=0,
        **training,
    ).fit(X, y)
    models[name] = augnet
    for method, clf in (("no augmentation", baseline), ("AugNet", augnet)):
        results[name, method] = (
            (clf.predict(X_test) == y_test).mean(),
            invariance(clf, X_test, shift, random_state=0),
        )
        print(
            f"{name:>17} {method:>16}: accuracy {results[name, method][0]:.3f}, "
            f"invariance to +-0.5 Hz shifts {results[name, method][1]:.3f}"
        )

# %%
# The learned policy
# ------------------
# AugNet puts (almost) all the weight on ``FrequencyShift``: early in
# training, the data term favours the frequency shift and the weights commit
# to it (``FTSurrogate`` and ``GaussianNoise``, at these small ranges, are
# harmless but useless). Its learned maximal shift (``op_value``, in Hz) is of
# the order of the 0.5 Hz jitter of the data and well below the 2 Hz between
# neighbouring classes: the regulariser pushes it up, the classification loss
# holds it back where shifts start to blur the classes. The value moves from
# run to run and from epoch to epoch (right panel below: the magnitude, a
# fraction of the 2 Hz range).
columns = ["transform", "weight", "magnitude", "op_value", "mag_range", "at_cap"]
print(models["tiny (1 x 32)"].policy_[columns].round(3).to_string(index=False))
fig = plot_policy(models["tiny (1 x 32)"])

# %%
# Invariance does not depend on the trunk
# ---------------------------------------
# The invariance score is ``1 - d(f(x), f(Tx)) / d(f(x), f(x'))`` with the
# cosine distance ``d`` and ``x'`` another test signal (median over signals).
fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
width = 0.35
for i, method in enumerate(("no augmentation", "AugNet")):
    values = [results[name, method][1] for name in trunks]
    ax.bar(np.arange(len(trunks)) + (i - 0.5) * width, values, width, label=method)
ax.set_xticks(range(len(trunks)), list(trunks))
ax.set_xlabel("trunk")
ax.set_ylabel("invariance to\n+-0.5 Hz shifts")
ax.set_ylim(0.5, 1.0)
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
plt.show()
