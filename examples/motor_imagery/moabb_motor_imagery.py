"""
Motor imagery on BCI Competition IV 2a (MOABB) with AugNet (not run here)
=========================================================================

Sleep staging uses two EEG channels; motor imagery decoding uses a montage
of 22 electrodes named in the 10-20 system, where *spatial* augmentations
matter: rotations of the sensors on the scalp, and the left/right symmetry
of the head. This example trains :class:`~braindecode_augnet.AugNetClassifier`
on the BNCI2014_001 data set of MOABB (BCI Competition IV 2a: 9 subjects
imagining left-hand, right-hand, feet and tongue movements, two sessions each)
with a hand-made list of candidate transforms, and compares it with the same
network trained without augmentation.

.. note::

   This example is **not run** when the documentation is built: MOABB
   downloads BNCI2014_001 (about 1 GB for the 9 subjects) on first use, into
   ``~/mne_data`` by default (see ``moabb.utils.set_download_dir``). It needs
   ``pip install moabb`` (or ``pip install braindecode-augnet[moabb]``). To try
   the code offline, set ``DATASET_NAME = "FakeDataset"``: MOABB's
   ``moabb.datasets.fake.FakeDataset`` generates random signals on three
   channels (``C3``, ``Cz``, ``C4``) with three fake classes, so the whole
   pipeline runs in a few minutes on a CPU without any download (and scores
   at chance). The picture of this example in the gallery illustrates a
   sensor rotation on the 22 electrodes; it is not one of its results.
"""

# Authors: braindecode-augnet developers
#
# License: BSD (3-clause)

# %%
# Loading the data
# ----------------
#
# :func:`~braindecode_augnet.datasets.load_moabb` wraps
# :class:`braindecode.datasets.MOABBDataset`: one raw recording per run, with
# the cues as annotations and ``subject``, ``session`` and ``run`` in the
# description. Decoding here is within subject and across sessions: trained on
# the first session of a subject, tested on the second.

import numpy as np
import torch

from braindecode_augnet.datasets import load_moabb

# sphinx_gallery_thumbnail_path = "_static/thumbnails/moabb_motor_imagery.png"

DATASET_NAME = "BNCI2014_001"  # "FakeDataset" runs offline, without download
SUBJECT_ID = 3
SEED = 0
MAX_EPOCHS = 200
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

dataset = load_moabb(DATASET_NAME, subject_ids=[SUBJECT_ID])
print(dataset.description)

# %%
# Preprocessing and windowing
# ---------------------------
#
# The usual braindecode motor-imagery preprocessing: EEG channels only,
# microvolts, a 4-38 Hz band-pass filter and an exponential moving
# standardisation; then one window per trial, from the cue to the end of the
# trial (4 s in BNCI2014_001).

from braindecode.preprocessing import (
    Preprocessor,
    create_windows_from_events,
    exponential_moving_standardize,
    preprocess,
)


def to_microvolts(data):
    return data * 1e6


preprocess(
    dataset,
    [
        Preprocessor("pick_types", eeg=True, meg=False, stim=False),
        Preprocessor(to_microvolts),
        Preprocessor("filter", l_freq=4.0, h_freq=38.0),
        Preprocessor(
            exponential_moving_standardize, factor_new=1e-3, init_block_size=1000
        ),
    ],
    n_jobs=1,
)
sfreq = dataset.datasets[0].raw.info["sfreq"]
windows = create_windows_from_events(
    dataset,
    trial_start_offset_samples=0,
    trial_stop_offset_samples=0,
    preload=True,
)
sessions = windows.split("session")
train_session, test_session = sorted(sessions)[0], sorted(sessions)[-1]
train_set, test_set = sessions[train_session], sessions[test_session]

info = dataset.datasets[0].raw.info  # the preprocessed recordings
ch_names = info["ch_names"]
n_chans, n_times = train_set[0][0].shape
classes = np.unique(windows.get_metadata()["target"])
y_test = test_set.get_metadata()["target"].to_numpy()
print(
    f"{len(train_set)} training and {len(test_set)} test trials of {n_chans} "
    f"channels x {n_times} samples at {sfreq:g} Hz; channels: {ch_names}"
)

# %%
# Candidate transforms
# --------------------
#
# Instead of the ``"eeg"`` preset, the augmentation layers are given as lists
# of transforms from :mod:`braindecode_augnet.transforms` (one list per
# layer). The spatial layer holds transforms that need the channel names,
# which give the electrodes' positions on the standard 10-20 montage:
#
# * ``SensorsZRotation`` and ``SensorsYRotation`` interpolate the signals on
#   electrodes rotated around the vertical and front-back axes, by up to 30
#   degrees at magnitude 1 (the cap sits slightly differently on every head);
# * ``ChannelsSymmetry`` swaps the left and right hemispheres (``C3`` with
#   ``C4``, ...). It is a candidate on purpose: it turns an imagined left-hand
#   movement into a right-hand one, so the classification loss should teach
#   AugNet to leave it out (a low weight or probability);
# * ``ChannelsDropout`` and ``SignFlip``.
#
# The time-frequency layer holds the transforms of the ``"eeg"`` preset. Each
# transform starts at magnitude 0.5 (the ``"eeg"`` preset starts at 0.1, the
# classifier's ``init_magnitude``): for the involutions
# (``ChannelsSymmetry``, ``SignFlip``, ``TimeReverse``), which learn their
# probability of being applied on [0, 0.5], that is probability 0.25. The
# classifier builds the layers from these lists in AugNet's default mode:
# in training each trial goes through one candidate per layer, drawn from
# the layer's weights (``sampling='sampled'``; ``sampling='mixture'`` gives
# the paper's weighted mixture of all candidates).

from braindecode_augnet import transforms as T

augmentation = [
    [
        T.SensorsZRotation(ordered_ch_names=ch_names, magnitude=0.5),
        T.SensorsYRotation(ordered_ch_names=ch_names, magnitude=0.5),
        T.ChannelsSymmetry(ordered_ch_names=ch_names, probability=0.25),
        T.ChannelsDropout(magnitude=0.5),
        T.SignFlip(probability=0.25),
    ],
    [
        T.TimeReverse(probability=0.25),
        T.GaussianNoise(magnitude=0.5),
        T.SmoothTimeMask(magnitude=0.5),
        T.FTSurrogate(magnitude=0.5),
        T.FrequencyShift(sfreq=sfreq, magnitude=0.5),
    ],
]

# %%
# Training
# --------
#
# The network is braindecode's ``ShallowFBCSPNet``, trained with AdamW and a
# cosine learning-rate schedule as in braindecode's motor-imagery tutorials.
# AugNet's regulariser grows from 0 to full weight over the first 20 epochs
# (``reg_warmup``), so that the network learns something before the
# augmentations are pushed up. The classifiers are fitted on the braindecode
# windows datasets directly.

from braindecode import EEGClassifier
from braindecode.models import ShallowFBCSPNet
from skorch.callbacks import LRScheduler

from braindecode_augnet import AugNetClassifier

common = dict(
    module=ShallowFBCSPNet,
    module__n_chans=n_chans,
    module__n_times=n_times,
    module__n_outputs=len(classes),
    module__sfreq=sfreq,
    module__chs_info=info["chs"],
    module__final_conv_length="auto",
    optimizer=torch.optim.AdamW,
    optimizer__weight_decay=0.0,
    lr=0.0625 * 0.01,
    batch_size=64,
    max_epochs=MAX_EPOCHS,
    train_split=None,
    iterator_train__shuffle=True,
    callbacks=[
        ("lr_scheduler", LRScheduler("CosineAnnealingLR", T_max=MAX_EPOCHS - 1))
    ],
    classes=classes,
    device=DEVICE,
)

torch.manual_seed(SEED)
augnet = AugNetClassifier(
    augmentation=augmentation, reg_warmup=20, n_copies=20, **common
)
augnet.fit(train_set, y=None)

torch.manual_seed(SEED)
plain = EEGClassifier(**common)
plain.fit(train_set, y=None)

# %%
# Results
# -------

from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score

for name, clf in [("AugNet", augnet), ("no augmentation", plain)]:
    y_pred = clf.predict(test_set)
    print(
        f"{name}: test balanced accuracy "
        f"{balanced_accuracy_score(y_test, y_pred):.3f}, "
        f"kappa {cohen_kappa_score(y_test, y_pred):.3f}"
    )

# %%
# The learned policy: the weights of the spatial layer tell which spatial
# transforms the data tolerate, and the probability of ``ChannelsSymmetry``
# how often hemispheres may be swapped.

import matplotlib.pyplot as plt

from braindecode_augnet import plot_policy

columns = ["layer", "transform", "weight", "magnitude", "probability", "op_value"]
print(augnet.policy_[columns].round(3).to_string(index=False))
fig = plot_policy(augnet)
plt.show()

# %%
# References
# ----------
#
# - Tangermann, M. et al. (2012). Review of the BCI Competition IV. Frontiers
#   in Neuroscience, 6, 55.
# - Jayaram, V. and Barachant, A. (2018). MOABB: trustworthy algorithm
#   benchmarking for BCIs. Journal of Neural Engineering, 15(6).
# - Schirrmeister, R. T. et al. (2017). Deep learning with convolutional
#   neural networks for EEG decoding and visualization. Human Brain Mapping,
#   38(11).
# - Rommel, C., Moreau, T. and Gramfort, A. (2022). Deep invariant networks
#   with differentiable augmentation layers. Advances in Neural Information
#   Processing Systems (NeurIPS).
