"""Checks of the estimator's parameters, inputs and targets.

Carved out of :class:`~braindecode_augnet.AugNetClassifier` so that the
estimator holds its skorch hooks only; every message names the input and
the fix, raised before any training.
"""

import math
from numbers import Integral

import mne
import numpy as np
import pandas as pd
import torch
from sklearn.utils import column_or_1d
from skorch.utils import is_dataset, to_numpy

from ._validation import check_int, check_positive, check_unit
from .layers import SAMPLING_MODES, augmentation_layers, unwrap_module
from .model import SEQUENCE_AUGMENTATIONS, AugNet
from .regularization import REGULARIZER_SCALES

__all__ = []

#: Numeric parameters of the estimator: (check, its keyword arguments,
#: whether None is allowed).
NUMBERS = {
    "reg": (check_positive, {"allow_zero": True}, True),
    "reg_warmup": (check_int, {}, False),
    "n_copies": (check_int, {"low": 1}, False),
    "n_copies_train": (check_int, {"low": 1}, False),
    "n_copies_valid": (check_int, {"low": 1}, True),
    "temperature": (check_positive, {}, False),
    "init_magnitude": (check_unit, {}, False),
    "aug_weight_decay": (check_positive, {"allow_zero": True}, False),
    "copies_per_chunk": (check_int, {"low": 1}, True),
    "lr": (check_positive, {"allow_zero": True}, False),
    "optimizer__lr": (check_positive, {"allow_zero": True}, False),
    "aug_lr": (check_positive, {}, True),
    "magnitude_lr": (check_positive, {}, True),
    "unroll_lr": (check_positive, {}, True),
    "policy_valid_fraction": (check_unit, {}, False),
    "window_size": (check_int, {"low": 1}, True),
}
#: Parameters taking one of a few values: (the values, whether None is
#: allowed: the method's default).
CHOICES = {
    "sequence_augmentation": (SEQUENCE_AUGMENTATIONS, False),
    "sampling": (SAMPLING_MODES, True),
    "reg_scale": (REGULARIZER_SCALES, True),
}
DIVERGED = (
    "training diverged. Standardise the inputs (X of order 1, e.g. z-scored per "
    "channel), or lower lr, aug_lr or reg; a transform of your own may return "
    "NaN (apply it to X on its own, transform(X), which checks its output)."
)


def check_values(params):
    """Check the values of ``params`` (a dict) that :data:`NUMBERS` and
    :data:`CHOICES` name, e.g. those given to ``set_params`` before they are
    set (raises ValueError)."""
    for name, value in params.items():
        if name in NUMBERS:
            check, kwargs, optional = NUMBERS[name]
            if not (optional and value is None):
                check(value, name, **kwargs)
        elif name in CHOICES:
            allowed, optional = CHOICES[name]
            if not (optional and value is None) and value not in allowed:
                default = " or None (the method's default)" if optional else ""
                raise ValueError(
                    f"{name} must be one of {allowed}{default}, got {value!r}."
                )
        elif name.endswith("__lr"):  # another optimizer's, or a group's
            check_positive(value, name, allow_zero=True)


def check_params(net):
    """Check the parameters of the estimator ``net`` (raises ValueError)."""
    names = (*NUMBERS, *CHOICES)
    check_values({name: getattr(net, name) for name in names if hasattr(net, name)})
    if float(net.init_magnitude) == 0.0:
        raise ValueError(
            "init_magnitude must be in (0, 1], got 0: at magnitude 0 every "
            "candidate is the identity, and neither the regulariser (whose "
            "gradient in a magnitude is proportional to it) nor a gated "
            "transform (applied with probability 0) can move it away, so the "
            "policy would not learn. Start small instead, e.g. 0.01."
        )
    if not 0.0 < float(net.policy_valid_fraction) < 1.0:
        raise ValueError(
            "policy_valid_fraction must be strictly between 0 and 1 (the share "
            "of training examples held out for ADDA/CADDA), got "
            f"{float(net.policy_valid_fraction)}."
        )
    net.strategy.check_params(net)
    n_outputs = net.get_params_for("module").get("n_outputs")
    if n_outputs is not None and (
        isinstance(n_outputs, bool)
        or not isinstance(n_outputs, Integral)
        or n_outputs < 1
    ):
        raise ValueError(
            "module__n_outputs must be an integer >= 1, the number of classes, "
            f"got {n_outputs!r}; leave it out to take the classes of y."
        )


def as_array(y):
    """``y`` as a numpy array (tensors moved to the host)."""
    return to_numpy(y) if isinstance(y, torch.Tensor) else np.asarray(y)


def n_dims(X):
    """Dimensions of the array ``X`` (4 for sequences), ``None`` for others."""
    return len(np.shape(X)) if isinstance(X, (np.ndarray, torch.Tensor)) else None


def input_shape(X):
    """``(channels, times)`` of the examples of ``X``; ``(None, None)`` if unknown."""
    if isinstance(X, mne.BaseEpochs):
        return len(X.ch_names), len(X.times)
    try:
        shape = tuple(np.shape(X[0][0] if is_dataset(X) else X[0]))
    except (IndexError, KeyError, TypeError):
        return None, None
    return shape[-2:] if len(shape) >= 2 else (None, None)


def is_sequence(X, window_size):
    """Whether the array ``X`` holds sequences (4-D, or 3-D with window_size)."""
    dims = n_dims(X)
    return dims == 4 or (dims == 3 and window_size is not None)


def window_shape(X, window_size):
    """``(channels, times)`` of the windows of ``X`` (of each window of a
    sequence given as one signal with ``window_size``)."""
    n_chans, n_times = input_shape(X)
    if n_dims(X) == 3 and window_size and n_times and n_times % window_size == 0:
        n_times = window_size
    return n_chans, n_times


def check_targets_shape(X, y, window_size):
    """Per-example targets for windows, ``(n, n_windows)`` for sequences."""
    x_shape, y_shape = tuple(np.shape(X)), np.shape(y)
    if not is_sequence(X, window_size):
        if len(y_shape) == 2 and y_shape[1] > 1 and len(x_shape) == 3:
            raise ValueError(
                f"y of shape {y_shape} holds one label per window of sequences, "
                f"but X of shape {x_shape} holds windows (batch, channels, "
                "times): pass sequences (n_sequences, n_windows, channels, "
                "times), or set window_size for sequences (n_sequences, "
                f"channels, n_windows * window_size), e.g. window_size="
                f"{x_shape[-1] // y_shape[1]}."
            )
        return
    if len(x_shape) == 4:
        expected = x_shape[:2]
    else:
        if x_shape[-1] % window_size:
            raise ValueError(
                f"X of shape {x_shape} does not hold whole windows of "
                f"window_size={window_size} samples: expected (n_sequences, "
                "channels, n_windows * window_size)."
            )
        expected = (x_shape[0], x_shape[-1] // window_size)
    if tuple(y_shape) != expected:
        raise ValueError(
            f"Sequences X of shape {x_shape} need one target per window, y of "
            f"shape (n_sequences, n_windows) = {expected}, got {tuple(y_shape)}."
        )


def check_fit_lengths(X, y, classes):
    """Refuse ``X`` and ``y`` of different lengths, and fewer than 2 classes."""
    if y is None or is_dataset(X) or isinstance(X, dict):
        return
    try:
        n_x = len(X)
    except TypeError:
        return
    if n_x != len(y):
        raise ValueError(
            f"X and y have different lengths: {n_x} examples and {len(y)} targets."
        )
    if len(classes) < 2:
        raise ValueError(_ONE_CLASS)


_ONE_CLASS = (
    "y holds fewer than 2 classes: a classifier needs at least two (a first "
    "partial_fit on a batch of some classes only: pass them all, "
    "partial_fit(X, y, classes=[...]))."
)


def check_first_classes(net, y, classes):
    """Refuse a first ``partial_fit`` on ``y`` of one class before it builds
    the module (of one output, which later calls would be refused by)."""
    known = net.classes is not None or classes is not None
    if y is None or known or vars(net).get("classes_inferred_") is not None:
        return
    if len(np.unique(as_array(y))) < 2:
        raise ValueError(_ONE_CLASS)


def check_n_outputs(net):
    """Refuse a ``module__n_outputs`` that is not the number of classes:
    column ``k`` of ``predict_proba`` is ``classes_[k]``, so an extra
    column (a class absent from ``y``) would be read as another class."""
    classes = getattr(net, "classes_", None)
    n_outputs = net.get_params_for("module").get("n_outputs")
    name = fix = "module__n_outputs"
    if n_outputs is None:  # a module given as an instance: its own
        n_outputs = instance_param(net, "n_outputs")
        name = f"the module instance's n_outputs ({type(net.module).__name__})"
        fix = "build the module with n_outputs"
    if classes is None or n_outputs is None or int(n_outputs) == len(classes):
        return
    raise ValueError(
        f"{name}={n_outputs} but the targets hold {len(classes)} "
        f"classes {np.asarray(classes).tolist()}: column k of predict_proba is "
        "classes_[k], so they must agree. When a class is absent from these "
        f"targets, pass every class (e.g. classes=np.arange({n_outputs}) for "
        "labels 0-"
        f"{int(n_outputs) - 1}); else {fix}={len(classes)}."
    )


def instance_param(net, name):
    """Parameter ``name`` (e.g. ``n_chans``) of the module given as an
    instance (the trunk of an AugNet given), None for a class or name, or
    when unset (braindecode's models raise ValueError then)."""
    module = net.module
    module = module.trunk if isinstance(module, AugNet) else module
    if not isinstance(module, torch.nn.Module):
        return None
    try:
        return getattr(module, name, None)
    except ValueError:
        return None


def check_instance_shape(net, X, n_chans, n_times):
    """Refuse windows ``X`` of another shape than a module instance was
    built for, before the first batch fails inside it (sequences, whose
    models read several windows, are left to the model)."""
    if net.window_size is not None or n_dims(X) == 4:
        return
    built = {k: instance_param(net, k) for k in ("n_chans", "n_times")}
    given = {"n_chans": n_chans, "n_times": n_times}
    wrong = [
        f"{k}={built[k]} (X has {given[k]})"
        for k in built
        if built[k] is not None and given[k] is not None and built[k] != given[k]
    ]
    if wrong:
        raise ValueError(
            f"The module instance {type(net.module).__name__} was built for "
            f"{', '.join(wrong)}: build it for the shape of X, or pass its class "
            "or name, whose n_chans and n_times are inferred from X."
        )


def epochs_signal(X):
    """``(sampling frequency, channel names, channel types)`` of
    ``mne.Epochs``, else None."""
    if isinstance(X, mne.BaseEpochs):
        types = tuple(X.get_channel_types())
        return float(X.info["sfreq"]), tuple(X.ch_names), types
    return None


def check_signal_args(net, X):
    """Before the module is built: a ``module__sfreq`` set by the user that
    the Epochs contradict (the trunk and the preset's frequency shifts
    would work at the wrong rate)."""
    signal = epochs_signal(X)
    user = vars(net).get("module__sfreq")
    if "module__sfreq" in vars(net).get("inferred_module_params_", ()):
        user = None  # inferred from earlier data: check_fitted_signal's
    if signal is None or user is None or math.isclose(float(user), signal[0]):
        return
    raise ValueError(
        f"module__sfreq={user} but the Epochs are sampled at {signal[0]:g} Hz: "
        "leave module__sfreq out (it is read from the Epochs) or resample them "
        f"(epochs.resample({user}))."
    )


def check_transforms_sfreq(net):
    """After the module is built: candidates that work at a sampling
    frequency of their own (``FrequencyShift(sfreq=)``) at the trunk's."""
    sfreq = vars(net).get("module__sfreq")
    if sfreq is None:
        return
    for layer in augmentation_layers(unwrap_module(net)):
        for transform in layer.transforms:
            own = getattr(transform, "sfreq", None)
            if own is not None and not math.isclose(float(own), float(sfreq)):
                raise ValueError(
                    f"{type(transform).__name__}(sfreq={own:g}) in a network "
                    f"whose data are sampled at {float(sfreq):g} Hz "
                    f"(module__sfreq): its shifts would be in the wrong unit; "
                    f"build it with sfreq={float(sfreq):g}."
                )


def check_fitted_signal(net, X):
    """``mne.Epochs`` of the sampling frequency and channels (in order) of
    the Epochs the net was fitted on."""
    signal, fitted = epochs_signal(X), vars(net).get("epochs_signal_")
    if signal is None or fitted is None:
        return
    name = type(net).__name__
    if not math.isclose(signal[0], fitted[0]):
        raise ValueError(
            f"{name} was fitted on Epochs sampled at {fitted[0]:g} Hz, got "
            f"{signal[0]:g} Hz: resample them (epochs.resample({fitted[0]:g}))."
        )
    if signal[1] != fitted[1]:
        raise ValueError(
            f"{name} was fitted on the channels {list(fitted[1])}, got "
            f"{list(signal[1])}: pick those, in that order "
            f"(epochs.reorder_channels({list(fitted[1])}))."
        )
    if signal[2] != fitted[2]:
        raise ValueError(
            f"{name} was fitted on channels of the types {list(fitted[2])}, got "
            f"{list(signal[2])} under the same names: pass the fitted kind of "
            "signal (epochs.set_channel_types to correct mislabelled ones)."
        )


def check_fitted_shape(net, X, window_size, fix="or refit"):
    """``X``'s windows of the shape the net was fitted on (when known)."""
    shape = window_shape(X, window_size)
    fitted = (getattr(net, "n_chans_", None), getattr(net, "n_times_", None))
    if None not in shape + fitted and shape != fitted:
        raise ValueError(
            f"{type(net).__name__} was fitted on {fitted[0]} channels and "
            f"{fitted[1]} time samples per example, got {shape[0]} channels and "
            f"{shape[1]} time samples: pass windows of the fitted shape, {fix}."
        )


def check_input(net, X, window_size):
    """Before predicting: ``X`` of the fitted shape (and Epochs of the
    fitted rate and channels), the parameters finite."""
    check_fitted_shape(net, X, window_size)
    check_fitted_signal(net, X)
    module = unwrap_module(net)
    for part, name in (
        (module.augmentation, "augmentation policy"),
        (module.trunk, "trunk"),
    ):
        if not parameters_finite(part):
            raise ValueError(f"The {name} has NaN or infinite parameters: {DIVERGED}")


def parameters_finite(module):
    """Whether every parameter of ``module`` is finite (one host read)."""
    finite = [p.detach().isfinite().all() for p in module.parameters()]
    return not finite or bool(torch.stack(finite).all())


def check_per_window_targets(y_pred, y_true):
    """Per-window predictions ``(batch, n_classes, n_windows)`` need
    ``(batch, n_windows)`` targets."""
    if y_pred.ndim == 3 and tuple(y_true.shape) != (y_pred.shape[0], y_pred.shape[2]):
        raise ValueError(
            "Per-window predictions of shape (batch, n_classes, n_windows) = "
            f"{tuple(y_pred.shape)} need targets (batch, n_windows) = "
            f"{(y_pred.shape[0], y_pred.shape[2])}, got {tuple(y_true.shape)}. "
            "Batch sequences with braindecode.samplers.SequenceSampler "
            "(iterator_train__sampler=...)."
        )


def encode_labels(X, y, classes, window_size, name="y"):
    """Labels ``y`` as positions in ``classes`` (checked against ``X``);
    ``name``: the argument ``y`` is, for the message."""
    y = as_array(y)
    if is_sequence(X, window_size):  # (n_sequences, n_windows)
        check_targets_shape(X, y, window_size)
    else:
        y = column_or_1d(y, warn=True)
    index = pd.Index(classes).get_indexer(y.ravel()).reshape(y.shape)
    if (index < 0).any():
        raise ValueError(
            f"{name} holds labels not in classes {classes.tolist()}: "
            f"{np.unique(y[index < 0]).tolist()}."
        )
    return index
