"""
Invariance and capacity: AugNet against a bilevel-searched augmentation
=======================================================================

Rommel, Moreau & Gramfort (NeurIPS 2022) argue that the invariance AugNet
yields is built into the model (it averages the predictions of augmented
copies) and therefore does not depend on the trunk's capacity, while the
invariance obtained by data augmentation alone must be *learned* by the
trunk, which it does better the larger it is.

We check this on the noisy sinusoids (the class is the frequency, 2, 4, 6 or
8 Hz, up to a +-0.5 Hz jitter) with fully connected trunks of growing width,
trained

* with no augmentation,
* with a policy searched by bilevel optimisation and used as plain data
  augmentation (ADDA, ``AugNetClassifier(method='adda')``: the policy is
  learned on a held-out fifth of the training signals, the model predicts on
  the bare inputs),
* with AugNet (``method='augnet'``, 20 copies averaged at inference),

all with the candidates of the paper's sinusoid experiment
(:func:`~braindecode_augnet.sinusoid_augmentation`), and measure test
accuracy and invariance to +-0.5 Hz frequency shifts
(:func:`~braindecode_augnet.analysis.invariance`). That preset builds the
paper's layer, a weighted mixture of its candidates
(``sampling='mixture'``), and the classifier keeps the mode of a layer
built beforehand: both AugNet and ADDA train it as the paper does, not in
AugNet's default mode for the layers it builds itself (one candidate drawn
per example, ``sampling='sampled'``).
"""

# Authors: braindecode-augnet developers
# License: BSD-3-Clause

# %%
# Data and trunks
# ---------------
# 100 training and 100 test signals per class, 5 s at 100 Hz. The trunks are
# one hidden layer of 8 to 512 units on the raw samples: nothing in their
# architecture makes them invariant to frequency shifts.
import matplotlib.pyplot as plt
import numpy as np
import torch
from braindecode import EEGClassifier

from braindecode_augnet import AugNetClassifier, invariance, sinusoid_augmentation
from braindecode_augnet.datasets import make_sinusoids
from braindecode_augnet.study.toy_models import SINUSOID_TRAINING, ToyMLP
from braindecode_augnet.transforms import FrequencyShift

X, y = make_sinusoids(n_per_class=100, duration=5.0, random_state=0)
X_test, y_test = make_sinusoids(n_per_class=100, duration=5.0, random_state=1)

# sphinx_gallery_start_ignore
# Documentation builds run on small, shared machines, where torch's threads
# fight for the cores: one thread is then faster, and gives the numbers quoted
# at the end of this page.
import sys

if "sphinx_gallery" in sys.modules:
    torch.set_num_threads(1)
# sphinx_gallery_end_ignore


training = dict(SINUSOID_TRAINING)  # Adam at 3e-3, batches of 64, 30 epochs
widths = [8, 32, 128, 512]
methods = ["no augmentation", "ADDA (data augmentation)", "AugNet"]


def make(method, width):
    module = dict(module__hidden=width)
    if method == "no augmentation":
        return EEGClassifier(ToyMLP, **module, **training)
    return AugNetClassifier(
        ToyMLP,
        **module,
        augmentation=sinusoid_augmentation(sfreq=100),
        method="adda" if method.startswith("ADDA") else "augnet",
        n_copies=20,
        random_state=0,
        **training,
    )


# %%
# Training and measuring
# ----------------------
# The invariance score is ``1 - d(f(x), f(Tx)) / d(f(x), f(x'))`` (cosine
# distance ``d``, ``x'`` another test signal, median over signals) with
# ``T`` a frequency shift drawn in [-0.5, 0.5] Hz: 1 is full invariance.
shift = FrequencyShift(sfreq=100, magnitude=0.25, mag_range=(0, 2)).freeze()
results, policies = {}, {}
for width in widths:
    for method in methods:
        torch.manual_seed(0)
        clf = make(method, width).fit(X, y)
        accuracy = (clf.predict(X_test) == y_test).mean()
        inv = invariance(clf, X_test, shift, random_state=0)
        results[method, width] = accuracy, inv
        if method != "no augmentation":
            policies[method, width] = clf.policy_
        print(
            f"width {width:>3} {method:>24}: accuracy {accuracy:.3f}, "
            f"invariance {inv:.3f}"
        )

# %%
# The policies
# ------------
# The candidate each policy selects (largest weight) and its learned
# magnitude in the unit of the operation (Hz for ``FrequencyShift``, phase
# noise for ``FTSurrogate``, standard deviation for ``GaussianNoise``).
# AugNet's regulariser pushes the magnitudes up until they start to blur the
# classes or reach the top of their range (here the phase noise's 0.1);
# ADDA has no regulariser: its policy keeps what helps the held-out loss
# one step ahead.
for (method, width), table in policies.items():
    row = table.loc[table["weight"].idxmax()]
    print(
        f"width {width:>3} {method:>24}: {row['transform']} (weight "
        f"{row['weight']:.2f}), magnitude {row['op_value']:.3g}"
    )

# %%
# Invariance and accuracy against capacity
# ----------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.4), layout="constrained")
for method, marker in zip(methods, "os*"):
    values = np.array([results[method, width] for width in widths])
    for ax, column in zip(axes, (1, 0)):
        ax.plot(widths, values[:, column], marker=marker, label=method)
for ax, label in zip(axes, ("invariance to\n+-0.5 Hz shifts", "test accuracy")):
    ax.set_xscale("log", base=2)
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set_xlabel("hidden units")
    ax.set_ylabel(label)
axes[1].legend(fontsize=8, frameon=False)
plt.show()

# %%
# What we find
# ------------
# The paper's expected shape is only partly what this run shows (numbers
# from the run that built this page, seeded, with one torch thread):
#
# * ADDA's trunks, trained with the searched policy as plain data
#   augmentation, are not more invariant than the trunks trained without
#   augmentation, except at 32 units (0.926 against 0.884), and that width is
#   no evidence for the search: there ADDA's policy selects the frequency
#   shift with a learned maximal shift of 0 Hz, i.e. no augmentation at
#   all. At the other widths it selects weak Gaussian noise (8 and 128 units)
#   or phase noise (512 units), and its invariance is below the plain
#   trunk's (0.541 against 0.618 at 8 units, 0.922 and 0.905 against 0.946
#   and 0.950 at 128 and 512). The training signals already carry the
#   +-0.5 Hz jitter, so the larger trunks learn that invariance from the
#   data alone.
# * AugNet's layer selects the phase noise (``FTSurrogate``) at every
#   width, at the top of its small range (0.1 of a turn; 0.096 at 8 units),
#   never the frequency shift, so its 20 averaged copies are not shifted
#   copies and the mechanism the paper argues for does not act here. It is
#   ahead of both others at 8 units (invariance 0.667 against 0.618 and
#   0.541, accuracy 0.873 against 0.825 and 0.815) and, narrowly, at 128
#   units (invariance 0.954 against 0.946 and 0.922), but behind ADDA at 32
#   units (invariance 0.902 against 0.926, where ADDA applies no
#   augmentation at all, see above: that gap is between two trainings, not
#   between two policies) and behind the plain trunk at 512 units (0.940
#   against 0.950).
#
# So on this problem AugNet's advantage shows only for the smallest trunk,
# and not through the paper's explanation, an invariance built in by
# averaging shifted copies whatever the capacity: the policy it learned
# shifts nothing, and the gap closes with capacity instead of staying
# constant. A problem whose
# training data lack the invariance (no jitter) would be a sharper test.
