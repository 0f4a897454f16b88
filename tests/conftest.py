"""Shared fixtures and test settings."""

import warnings

import pytest
import torch

warnings.filterwarnings("ignore", message="Montage name 'standard_1020'")

TEN_TWENTY = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "Fz", "Cz"]


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


@pytest.fixture
def ch_names():
    return list(TEN_TWENTY)
