"""Tests of channel-name and sensor-position helpers."""

import pytest

from braindecode_augnet.channels import (
    check_ch_names,
    hemisphere_symmetric_permutation,
    standard_positions,
)

from .conftest import TEN_TWENTY


def test_symmetry_and_positions_accept_bipolar_and_prefixed_names():
    names = ["EEG C3-CLE", "EEG C4-CLE", "EEG Cz-CLE"]
    assert hemisphere_symmetric_permutation(names) == [1, 0, 2]
    assert standard_positions(names).shape == (3, 3)
    assert hemisphere_symmetric_permutation(["Fpz-Cz", "Pz-Oz"]) == [0, 1]


def test_ten_twenty_permutation_is_an_involution():
    perm = hemisphere_symmetric_permutation(TEN_TWENTY)
    assert sorted(perm) == list(range(len(TEN_TWENTY)))
    assert [perm[p] for p in perm] == list(range(len(TEN_TWENTY)))
    assert TEN_TWENTY[perm[TEN_TWENTY.index("C3")]] == "C4"


@pytest.mark.parametrize("names", ["C3", [], [1, 2], None])
def test_bad_channel_names_are_rejected(names):
    with pytest.raises(ValueError, match="ordered_ch_names"):
        check_ch_names(names)


def test_missing_counterpart_modes():
    with pytest.raises(ValueError, match="on_missing='ignore'"):
        hemisphere_symmetric_permutation(["C3", "Cz"])
    assert hemisphere_symmetric_permutation(["C3", "Cz"], on_missing="ignore") == [0, 1]
    with pytest.raises(ValueError, match="on_missing must be"):
        hemisphere_symmetric_permutation(["C3"], on_missing="skip")


def test_unknown_position_names_the_channel():
    with pytest.raises(ValueError, match="NotAChannel"):
        standard_positions(["C3", "NotAChannel"])
