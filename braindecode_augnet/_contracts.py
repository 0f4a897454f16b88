"""The scikit-learn and skorch contracts of the estimator: inputs and state.

What a user of scikit-learn, skorch and mne expects of a fitted estimator,
kept apart from the training code of :mod:`~braindecode_augnet.classifier`:

- inputs checked before any work, with messages that say what was passed
  and what to pass instead (:func:`check_inputs`);
- the label encoding, the input shape and the augmentation modules saved
  with the parameters, so that ``load_params`` onto a new estimator
  predicts labels, not class indices, checks its inputs' shape, and refuses
  parameters of other candidates (:func:`encode_state`,
  :func:`decode_state`, :func:`check_saved_augmentation`);
- the module sizes inferred from the data left out of the constructor
  parameters, so that :func:`sklearn.base.clone` gives an unfitted
  estimator that infers them again (:func:`constructor_params`).
"""

import json
from numbers import Integral

import numpy as np
import torch
from skorch.utils import is_dataset

__all__ = [
    "check_inputs",
    "check_saved_augmentation",
    "constructor_params",
    "decode_state",
    "encode_state",
]

_WINDOWS = "(n_windows, n_channels, n_times)"
_SEQUENCES = "(n_sequences, n_windows, n_channels, n_times)"


# ---------------------------------------------------------------- inputs
def _shape(X):
    return tuple(np.shape(X))


def check_inputs(X, y=None, predicting=False):
    """Refuse inputs the estimator cannot use, before any work starts.

    Parameters
    ----------
    X : array-like | Dataset | mne.Epochs
        What was passed to ``fit``, ``partial_fit`` or a prediction method.
    y : array-like | None
        The targets passed with ``X``.
    predicting : bool
        Whether ``X`` is to be predicted (no targets are read then).

    Raises
    ------
    ValueError
        For a list of arrays, an object or non-numeric array, an array of
        fewer than 3 or more than 4 dimensions, no examples, or a windows
        dataset whose targets are not class indices.
    """
    if isinstance(X, (list, tuple)):
        first = f" of shape {_shape(X[0])}" if len(X) and hasattr(X[0], "shape") else ""
        raise ValueError(
            f"X is a {type(X).__name__} of {len(X)} items{first}: pass one array "
            f"{_WINDOWS} (e.g. np.stack(X) for windows of the same shape), a "
            "torch Dataset, a braindecode windows dataset or mne.Epochs."
        )
    if isinstance(X, (np.ndarray, torch.Tensor)):
        _check_array(X)
    elif is_dataset(X):
        try:
            n = len(X)
        except TypeError:
            n = None
        if n == 0:
            raise ValueError("X is a dataset of 0 examples: pass at least one example.")
        if not predicting and y is None:
            _check_dataset_targets(X)


def _check_array(X):
    if isinstance(X, np.ndarray) and not (
        np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_
    ):
        hint = (
            " (e.g. windows of different lengths put in one array): crop the "
            "windows to one length and stack them"
            if X.dtype == object
            else ""
        )
        raise ValueError(
            f"X has dtype {X.dtype} and shape {X.shape}{hint}; pass a float array "
            f"{_WINDOWS}, e.g. X.astype(np.float32)."
        )
    shape = _shape(X)
    if len(shape) < 3:
        example = {
            1: "X.reshape(1, 1, -1) for one single-channel signal",
            2: "X[:, None, :] for single-channel windows (n_windows, n_times), "
            "or X[None] for one window (n_channels, n_times)",
        }.get(len(shape), "")
        raise ValueError(
            f"X of shape {shape} has {len(shape)} dimension(s): pass windows "
            f"{_WINDOWS} or sequences {_SEQUENCES}"
            + (f", e.g. {example}." if example else ".")
        )
    if len(shape) > 4:
        raise ValueError(
            f"X of shape {shape} has {len(shape)} dimensions: pass windows "
            f"{_WINDOWS} or sequences {_SEQUENCES}."
        )
    if shape[0] == 0:
        raise ValueError(
            f"X of shape {shape} holds no examples: pass at least one window "
            f"{_WINDOWS}."
        )


def _dataset_targets(X):
    """Targets of a braindecode windows dataset, read without loading data;
    ``None`` when they cannot be read so."""
    parts = getattr(X, "datasets", None)
    if parts is None:
        return None
    targets = []
    for part in parts:
        y = getattr(part, "y", None)
        if y is None:
            return None
        targets.extend(np.ravel(np.asarray(y, dtype=object)).tolist())
    return targets


def _check_dataset_targets(X):
    targets = _dataset_targets(X)
    if not targets:
        return
    strings = sorted({t for t in targets if isinstance(t, str)})
    if strings:
        raise ValueError(
            f"The windows dataset holds string targets ({strings[:5]}): a dataset's "
            "targets are used as class indices. Map the labels to integers 0..n-1 "
            "when windowing (e.g. create_fixed_length_windows(..., mapping="
            f"{ {s: i for i, s in enumerate(strings[:3])} }), and pass "
            f"classes={strings[:3]} to predict the labels."
        )
    bad = sorted(
        {t for t in targets if isinstance(t, (Integral, np.integer)) and int(t) < 0}
    )
    if bad:
        minus_one = (
            " -1 is braindecode's 'no target': the recordings' datasets were "
            "built without target_name (e.g. RawDataset(raw, description, "
            "target_name='target')), so the windows carry no label."
            if -1 in bad
            else ""
        )
        raise ValueError(
            f"The windows dataset holds negative targets {bad[:5]}, not class "
            f"indices 0..n_classes-1.{minus_one} Give each window its class index "
            "(create_fixed_length_windows(..., mapping={label: index}), or "
            "create_windows_from_events for event-based labels)."
        )


# ------------------------------------------------------------ persistence
def encode_state(classes, **entries):
    """The class labels and ``entries`` (JSON values) as a uint8 tensor of
    JSON, for a module's state.

    A tensor goes through ``torch.save`` with ``weights_only`` loading and
    through safetensors alike. ``classes`` None is saved as none (the
    estimator predicts class indices); labels that JSON cannot hold (e.g.
    tuples) are left out: the estimator then needs ``classes=`` to decode
    its predictions.
    """
    state = dict(entries)
    if classes is None:
        state["classes"] = None
    else:
        classes = np.asarray(classes)
        values = classes.tolist()
        try:
            text = json.dumps(values)
        except TypeError:
            text = None
        if text is not None and json.loads(text) == values:  # no tuples
            state.update(classes=values, dtype=classes.dtype.str)
    return torch.tensor(list(json.dumps(state).encode()), dtype=torch.uint8)


def decode_state(state):
    """The entries saved by :func:`encode_state` (``{}`` for an empty
    tensor, the state of older versions without labels), with ``classes``
    as an array when saved."""
    if state is None or not isinstance(state, torch.Tensor) or not state.numel():
        return {}
    data = json.loads(bytes(state.cpu().tolist()).decode())
    if data.get("classes") is not None:
        data["classes"] = np.asarray(data["classes"], dtype=np.dtype(data["dtype"]))
    return data


def check_saved_augmentation(saved, current):
    """Refuse parameters saved with other augmentation modules than
    ``current`` (see ``AugNet.augmentation_signature``), naming both.

    The keys of a state dict are positions (``layers.0.transforms.1``):
    without this check, a policy learned for ``[SignFlip, GaussianNoise]``
    loads into ``[TimeReverse, AmplitudeScale]`` without a word.
    ``saved`` None (an older version's state) is not checked.
    """
    if saved is None or saved == current:  # lists of lists, as JSON reads them
        return

    def describe(signature, every=False):
        leaves = ", ".join(
            name if mag_range is None else f"{name}{tuple(mag_range)}"
            for name, mag_range, leaf in signature
            if leaf or every
        )
        return f"{signature[0][0]}: {leaves}" if signature else "none"

    every = describe(saved) == describe(current)  # containers differ

    raise ValueError(
        "The parameters were saved with other augmentation modules than this "
        f"estimator's: saved [{describe(saved, every)}], here "
        f"[{describe(current, every)}] (class names and mag_range, in order). "
        "Build the estimator with the method and augmentation (candidates, "
        "their order and sfreq) of the one that saved them; no parameter was "
        "loaded."
    )


# ------------------------------------------------------------------ clone
def constructor_params(params, inferred):
    """``params`` without those the estimator inferred from the data.

    :func:`sklearn.base.clone` builds a new estimator from ``get_params``:
    the module sizes inferred at fit (``module__n_chans``, ``n_times``,
    ``n_outputs``...) would pass as if a user had set them, and a clone
    refitted on other classes or shapes would keep the old ones.
    """
    inferred = set(inferred or ())
    return {key: value for key, value in params.items() if key not in inferred}
