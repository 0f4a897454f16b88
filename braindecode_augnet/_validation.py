"""Checks of numeric arguments, with messages that name the parameter.

Every public parameter that takes a number accepts Python, numpy and 0-d
torch numbers alike (e.g. ``np.float32(0.1)``, ``np.int64(2)`` from
``GridSearchCV(..., {"reg": np.arange(3)})``) and returns a Python number.
"""

from numbers import Integral, Real

import numpy as np
import torch

__all__ = ["as_real", "check_int", "check_positive", "check_unit"]


def _python_number(value, name, expected):
    """A Python number from a Python, numpy or 0-d torch number (not a bool)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(
            f"{name} must be {expected}, got {value!r} ({type(value).__name__})."
        )
    return value


def as_real(value, name, expected):
    """``value`` as a finite Python float, or a ValueError naming ``name``."""
    value = float(_python_number(value, name, expected))
    if not np.isfinite(value):
        raise ValueError(f"{name} must be {expected} (finite), got {value!r}.")
    return value


def check_unit(value, name, high=1.0):
    """``value`` as a float in ``[0, high]``."""
    expected = f"a number in [0, {high:g}]"
    value = as_real(value, name, expected)
    if not 0.0 <= value <= high:
        raise ValueError(f"{name} must be {expected}, got {value!r}.")
    return value


def check_positive(value, name, allow_zero=False, *, allow_none=False, hint=None):
    """``value`` as a finite float ``> 0`` (``>= 0`` with ``allow_zero``;
    ``None`` as is with ``allow_none``); ``hint`` (what the parameter is and
    what to pass, a sentence) ends the message."""
    if value is None and allow_none:
        return None
    expected = "a number >= 0" if allow_zero else "a number > 0"
    try:
        value = as_real(value, name, expected)
        if value < 0 or (value == 0 and not allow_zero):
            raise ValueError(f"{name} must be {expected}, got {value!r}.")
    except ValueError as err:
        if hint is None:
            raise
        raise ValueError(f"{err} {hint}.") from None
    return value


def check_int(value, name, low=0):
    """``value`` as a Python int ``>= low`` (integral floats accepted)."""
    expected = f"an integer >= {low}"
    value = _python_number(value, name, expected)
    if not isinstance(value, Integral) and (
        not np.isfinite(value) or int(value) != value
    ):
        raise ValueError(f"{name} must be {expected}, got {value!r}.")
    if int(value) < low:
        raise ValueError(f"{name} must be {expected}, got {value!r}.")
    return int(value)
