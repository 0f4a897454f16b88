"""Tests of the numeric argument checks (numpy and 0-d tensor numbers)."""

import numpy as np
import pytest
import torch

from braindecode_augnet._validation import (
    as_real,
    check_int,
    check_positive,
    check_unit,
)


@pytest.mark.parametrize(
    "value", [0.25, np.float32(0.25), np.float64(0.25), torch.tensor(0.25)]
)
def test_real_numbers_of_any_type_become_python_floats(value):
    for checked in (
        as_real(value, "x", "a number"),
        check_unit(value, "x"),
        check_positive(value, "x"),
    ):
        assert type(checked) is float and checked == 0.25


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), torch.tensor(3), 3.0])
def test_integers_of_any_type_become_python_ints(value):
    checked = check_int(value, "n", low=1)
    assert type(checked) is int and checked == 3


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: check_positive(None, "temperature"),
            "temperature must be a number > 0, got None",
        ),
        (
            lambda: check_positive(0, "temperature"),
            "temperature must be a number > 0, got 0.0",
        ),
        (
            lambda: check_positive(np.inf, "reg", allow_zero=True),
            r"reg must be a number >= 0 \(finite\)",
        ),
        (
            lambda: check_positive(-1, "reg", allow_zero=True),
            "reg must be a number >= 0",
        ),
        (
            lambda: check_unit(1.5, "init_magnitude"),
            r"init_magnitude must be a number in \[0, 1\]",
        ),
        (lambda: check_unit(np.nan, "p"), "p must be a number in"),
        (lambda: check_int(1.5, "n_copies", low=1), "n_copies must be an integer >= 1"),
        (lambda: check_int(0, "n_copies", low=1), "n_copies must be an integer >= 1"),
        (lambda: check_int(True, "n_copies"), "n_copies must be an integer >= 0"),
        (lambda: check_int(np.inf, "n"), "n must be an integer"),
        (lambda: as_real(torch.ones(2), "x", "a number"), "x must be a number"),
        (lambda: as_real("1", "x", "a number"), r"x must be a number, got '1' \(str\)"),
    ],
)
def test_messages_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_check_positive_takes_none_where_allowed_and_ends_with_a_hint():
    assert check_positive(None, "x", allow_none=True) is None
    with pytest.raises(ValueError, match=r"^x must be a number > 0, got -1.0. Pass 1"):
        check_positive(-1, "x", hint="Pass 1")
    with pytest.raises(ValueError, match=r"x must be a number > 0, got None"):
        check_positive(None, "x", hint="Pass 1")
