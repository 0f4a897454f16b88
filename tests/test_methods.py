"""Tests of the method strategies (braindecode_augnet.methods) and of the
compatibility of the estimator with pickles written before them."""

import json
import pickle

import numpy as np
import pytest
import torch

from .data.make_legacy_pickles import (
    HERE,
    METHODS,
    make_clf,
    make_data,
    platform_info,
    state_hash,
)

EXPECTED = json.loads((HERE / "expected.json").read_text())


@pytest.fixture(autouse=True)
def _one_thread():
    """The references were computed on one thread (reductions' order)."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.mark.parametrize("method", METHODS)
def test_legacy_pickle_loads_and_predicts_as_recorded(method):
    clf = pickle.loads((HERE / f"{method}.pkl").read_bytes())
    _, _, X_test = make_data()
    expected = np.load(HERE / "expected.npz")[method]
    np.testing.assert_allclose(clf.predict_proba(X_test), expected, rtol=1e-5)
    assert state_hash(clf) == EXPECTED["hashes"][method]


@pytest.mark.parametrize("method", METHODS)
def test_refit_gives_the_recorded_parameters(method):
    X, y, X_test = make_data()
    clf = make_clf(method).fit(X, y)
    if platform_info() == EXPECTED["platform"]:
        assert state_hash(clf) == EXPECTED["hashes"][method]  # bit-exact
    reference = pickle.loads((HERE / f"{method}.pkl").read_bytes())
    for (name, p), q in zip(
        clf.module_.state_dict().items(), reference.module_.state_dict().values()
    ):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6, msg=name)
