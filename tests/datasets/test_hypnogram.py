"""Hypnogram files and stage codings (text files written here, real Sleep-EDF
hypnograms and the real segment's stages from ../shared/data)."""

import numpy as np
import pytest

from braindecode_augnet.datasets import SLEEP_STAGE_MAPPING, STAGE_CODINGS
from braindecode_augnet.datasets.hypnogram import parse_stage_coding, read_hypnogram

from ..conftest import HYPNOGRAMS, SLEEP_EDF

SEGMENT = SLEEP_EDF.parent / "real-eeg-segment"
TARGET = {v: k for k, v in SLEEP_STAGE_MAPPING.items() if k != "Sleep stage 4"}


def _targets(annots, epoch_s=30.0):
    """One target per 30-s epoch of each annotation."""
    out = []
    for desc, dur in zip(annots.description, annots.duration):
        out += [SLEEP_STAGE_MAPPING[desc]] * int(round(dur / epoch_s))
    return out


def _write(tmp_path, text, name="night.hyp.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_one_stage_per_epoch_names(tmp_path):
    path = _write(tmp_path, "stage\nW\nN1\nn2\nN3\nR\nREM\nS4\nMT\n?\nWake\n")
    annots, dropped = read_hypnogram(path)
    assert _targets(annots) == [0, 1, 2, 3, 4, 4, 3, 0]
    assert annots.onset.tolist() == [0, 30, 60, 90, 120, 150, 180, 270]
    assert list(dropped.description) == ["MT", "?"]
    assert dropped.onset.tolist() == [210, 240]


def test_numeric_codes_need_a_coding(tmp_path):
    path = _write(tmp_path, "0\n1\n2\n3\n4\n5\n9\n")
    with pytest.raises(ValueError, match=r"line 1: stage '0'.*stage_coding='rk'"):
        read_hypnogram(path)
    annots, dropped = read_hypnogram(path, "rk")
    assert _targets(annots) == [0, 1, 2, 3, 3, 4]  # R&K stage 4 -> N3
    assert list(dropped.description) == ["9"]
    with pytest.raises(ValueError, match=r"line 6: stage '5'"):
        read_hypnogram(path, "aasm")  # 5 is not an AASM code
    annots, _ = read_hypnogram(_write(tmp_path, "0\n1\n2\n3\n4\n"), "aasm")
    assert _targets(annots) == [0, 1, 2, 3, 4]


def test_onset_duration_stage_rows_and_mne_txt(tmp_path):
    text = "# MNE-Annotations\n# onset, duration, description\n"
    text += "0.0, 60.0, Sleep stage W\n60.0, 30.0, Sleep stage 4\n"
    text += "90.0, 30.0, Movement time\n120.0, 90.0, Sleep stage R\n"
    annots, dropped = read_hypnogram(_write(tmp_path, text, "a.txt"))
    assert _targets(annots) == [0, 0, 3, 4, 4, 4]
    assert annots.onset.tolist() == [0, 60, 120]
    assert list(dropped.description) == ["Movement time"]
    text = "onset;duration;stage\n0;30;W\n30;60;N2\n"
    annots, _ = read_hypnogram(_write(tmp_path, text, "b.csv"))
    assert _targets(annots) == [0, 2, 2]


def test_change_points_end_at_the_recording_end(tmp_path):
    path = _write(tmp_path, "Time,Stage\n0,5\n60,2\n150,4\n")
    annots, _ = read_hypnogram(path, "prerau", duration=210)
    assert _targets(annots) == [0, 0, 2, 2, 2, 4, 4]


@pytest.mark.parametrize("epoch_s", [0, -30, np.nan, np.inf])
def test_epoch_s_is_checked_before_the_file_is_read(tmp_path, epoch_s):
    match = f"epoch_s must be a number > 0.*, got {float(epoch_s)!r}. It is the length"
    with pytest.raises(ValueError, match=match + ".*epoch_s=30"):
        read_hypnogram(tmp_path / "missing.csv", epoch_s=epoch_s)
    with pytest.raises(ValueError, match=r"epoch_s must be .*got '30' \(str\)"):
        read_hypnogram(tmp_path / "missing.csv", epoch_s="30")


@pytest.mark.parametrize("duration", [0, -5, np.nan, np.inf])
def test_duration_is_checked_before_the_file_is_read(tmp_path, duration):
    match = (
        f"duration must be a number > 0.*, got {float(duration)!r}. It is the length"
    )
    with pytest.raises(ValueError, match=match):
        read_hypnogram(tmp_path / "missing.csv", duration=duration)


def test_change_points_past_the_recording_end_last_one_epoch(tmp_path):
    path = _write(tmp_path, "0,W\n60,N2\n5000,REM\n")
    annots, _ = read_hypnogram(path, duration=3600)  # REM starts after the end
    assert annots.duration.tolist() == [60, 4940, 30]  # not 3600 - 5000 s
    annots, _ = read_hypnogram(path, epoch_s=20)  # end unknown: one epoch
    assert annots.duration.tolist() == [60, 4940, 20]
    annots, _ = read_hypnogram(path, duration=5000)  # a row marking the end
    assert annots.duration.tolist() == [60, 4940, 0]


def test_overlap_tolerance_and_dropped_rows(tmp_path):
    # 1 ms of rounding is no overlap
    annots, _ = read_hypnogram(_write(tmp_path, "0,30.0004,W\n30,30,N2\n"))
    assert _targets(annots) == [0, 2]
    # dropped rows (e.g. arousals) may overlap the stages
    text = "0,60,W\n30,5,Arousal\n60,30,N2\n"
    annots, dropped = read_hypnogram(_write(tmp_path, text), {"Arousal": None})
    assert _targets(annots) == [0, 0, 2]
    assert list(dropped.description) == ["Arousal"]


@pytest.mark.parametrize(
    "text, match",
    [
        ("W\nN2\nbanana\n", r"line 3: stage 'banana' is not mapped.*stage_coding=\{"),
        ("0,30,W\n30,30\n", "line 2: 2 fields where the first line has 3"),
        ("0,30,W\nabc,30,N2\n", r"line 2: onset/duration \['abc', '30'\]"),
        ("0,30,W\n60,30,N2\n30,30,N1\n", "line 3: onset 30 s is before"),
        ("0,-30,W\n", "line 1: negative onset or non-positive duration"),
        ("nan,30,W\n", r"line 1: onset/duration \['nan', '30'\] are not finite"),
        ("0,inf,W\n", r"line 1: onset/duration \['0', 'inf'\] are not finite"),
        (
            "0,30,W\n10,30,N2\n",
            r"line 2: onset 10 s is before the end of the stage of line 1 "
            r"\(onset 0 s \+ duration 30 s = 30 s\): scored rows overlap",
        ),
        (
            "0,W\n0,N2\n30,N3\n",
            r"line 2: onset 0 s repeats that of the previous row \(line 1, 0 s\).*"
            "onsets must strictly increase",
        ),
        ("1,2,3,W\n", "line 1: 4 fields"),
        ("# only a comment\n", "has no stage"),
        ("?\nMT\n", r"no scored epoch \(only \['\?', 'MT'\]\)"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=match) as excinfo:
        read_hypnogram(path)
    assert "night.hyp.csv" in str(excinfo.value)


def test_dict_and_command_line_codings(tmp_path):
    path = _write(tmp_path, "a\nb\nc\nd\nlights\n")
    coding = {"a": "W", "b": "N2", "c": 3, "d": "REM", "lights": None}
    annots, dropped = read_hypnogram(path, coding)
    assert _targets(annots) == [0, 2, 3, 4]
    assert list(dropped.description) == ["lights"]
    same, _ = read_hypnogram(path, "a=W, b=N2, c=N3, d=R, lights=drop")
    assert _targets(same) == [0, 2, 3, 4]
    with pytest.raises(ValueError, match="maps 'c' to 'N5'"):
        parse_stage_coding({"c": "N5"})
    with pytest.raises(ValueError, match="Unknown stage_coding 'rk5'"):
        parse_stage_coding("rk5")
    with pytest.raises(ValueError, match="'b' is not 'label=stage'"):
        parse_stage_coding("a=W,b")
    assert set(STAGE_CODINGS) == {"rk", "aasm", "prerau"}


def test_binary_file_is_a_clear_error(tmp_path):
    path = tmp_path / "night.hyp.csv"
    path.write_bytes(b"\x80\x81\xfe" * 10)
    with pytest.raises(ValueError, match="not a text file"):
        read_hypnogram(path)


@pytest.mark.parametrize("hyp_path", HYPNOGRAMS, ids=lambda p: p.name[:8])
def test_real_sleep_edf_hypnograms(hyp_path):
    import mne

    annots, dropped = read_hypnogram(hyp_path)
    original = mne.read_annotations(hyp_path)
    expected = []
    for desc, dur in zip(original.description, original.duration):
        if desc in SLEEP_STAGE_MAPPING:
            expected += [SLEEP_STAGE_MAPPING[desc]] * int(dur // 30)
    assert _targets(annots) == expected
    assert set(dropped.description) <= {"Sleep stage ?", "Movement time"}


def test_an_edf_hypnogram_with_an_upper_case_suffix_is_read(tmp_path):
    """mne knows EDF+ annotation files by a lower-case suffix only: an
    '-Hypnogram.EDF' was refused as an unknown format."""
    if not HYPNOGRAMS:
        pytest.skip(f"real Sleep-EDF hypnograms not found in {SLEEP_EDF}")
    upper = tmp_path / "night-Hypnogram.EDF"
    upper.write_bytes(HYPNOGRAMS[0].read_bytes())
    annots, _ = read_hypnogram(upper)
    assert _targets(annots) == _targets(read_hypnogram(HYPNOGRAMS[0])[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [upper.name]


def test_unmapped_edf_annotation_names_the_annotation(tmp_path):
    import mne

    pytest.importorskip("edfio")
    raw = mne.io.RawArray(
        np.zeros((1, 900)), mne.create_info(["x"], 10.0, "misc"), verbose="error"
    )
    raw.set_annotations(
        mne.Annotations([0, 30, 60], [30, 30, 30], ["Sleep stage W", "Arousal", "N2"])
    )
    path = tmp_path / "night-Hypnogram.edf"
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    with pytest.raises(
        ValueError, match=r"annotation 1 \(onset 30 s\): stage 'Arousal'"
    ):
        read_hypnogram(path)
    annots, dropped = read_hypnogram(path, {"Arousal": None})
    assert _targets(annots) == [0, 2]


def test_real_segment_change_points():
    path = SEGMENT / "segment_stages.csv"
    if not path.is_file():
        pytest.skip(f"real EEG segment not found in {SEGMENT}")
    annots, dropped = read_hypnogram(path, "prerau", duration=502600 / 100)
    assert len(dropped) == 0
    # whole 30-s epochs per stage (change points fall 0.01 s after a 30-s
    # boundary: rounded); the README's per-window count has one REM more (the
    # first REM run lasts 40 s)
    counts = np.bincount(
        [
            SLEEP_STAGE_MAPPING[d]
            for d, dur in zip(annots.description, annots.duration)
            for _ in range(int(round(dur / 30)))
        ],
        minlength=5,
    )
    assert counts.tolist() == [2, 7, 95, 37, 26]
    assert annots.onset[0] == 0 and annots.description[0] == "Sleep stage R"


def test_unknown_first_label_is_not_taken_for_a_header(tmp_path):
    with pytest.raises(ValueError, match=r"line 1: stage 'banana'"):
        read_hypnogram(_write(tmp_path, "banana\nW\nN2\n"))
    annots, _ = read_hypnogram(_write(tmp_path, "Stage\nW\nN2\n"))
    assert _targets(annots) == [0, 2]
