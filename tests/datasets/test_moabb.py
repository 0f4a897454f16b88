"""MOABB loader, tested offline with moabb's FakeDataset."""

import sys

import pytest
from braindecode.datasets import BaseConcatDataset, RawDataset
from braindecode.preprocessing import create_windows_from_events

from braindecode_augnet.datasets import load_moabb


def test_clear_import_error_without_moabb(monkeypatch):
    monkeypatch.setitem(sys.modules, "moabb", None)
    with pytest.raises(ImportError, match=r"pip install braindecode-augnet\[moabb\]"):
        load_moabb("BNCI2014_001", subject_ids=[1])


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_fake_dataset_by_name_and_instance():
    pytest.importorskip("moabb", reason="moabb is not installed")
    from moabb.datasets.fake import FakeDataset

    kwargs = dict(n_sessions=1, n_runs=2, n_subjects=3, duration=20, seed=0)
    ds = load_moabb("FakeDataset", subject_ids=[1, 3], dataset_kwargs=kwargs)
    assert isinstance(ds, BaseConcatDataset)
    assert all(isinstance(d, RawDataset) for d in ds.datasets)
    desc = ds.description
    assert desc["subject"].tolist() == [1, 1, 3, 3]
    assert {"session", "run"} <= set(desc.columns)
    raw = ds.datasets[0].raw
    assert set(raw.annotations.description) == {"fake1", "fake2", "fake3"}

    ds2 = load_moabb(FakeDataset(**kwargs), subject_ids=2)
    assert ds2.description["subject"].tolist() == [2, 2]
    windows = create_windows_from_events(ds2, preload=True)
    n_events = sum(len(d.raw.annotations) for d in ds2.datasets)
    assert len(windows) == n_events
    X, y, _ = windows[0]
    assert X.shape[0] == len(raw.ch_names) and y in (0, 1, 2)
