"""Tests of reading and exporting a learned policy (policy.py)."""

import math

import pytest
import torch
from sklearn.exceptions import NotFittedError

from braindecode_augnet import (
    AugmentationLayer,
    AugmentationModule,
    capped_transforms,
    fixed_transforms,
    policy_table,
    unsettled_transforms,
)
from braindecode_augnet import transforms as T
from braindecode_augnet.analysis.policy import DRIFT_TOLERANCE, history_arrays

from ..conftest import make_clf

COLUMNS = [
    "layer",
    "transform",
    "weight",
    "magnitude",
    "probability",
    "op_value",
    "mag_range",
    "at_cap",
    "displacement",
]


def module(random_state=0):
    return AugmentationModule(
        [
            [
                T.SignFlip(probability=0.2),
                T.GaussianNoise(magnitude=0.5, mag_range=(0.0, 0.2)),
            ],
            [T.FrequencyShift(sfreq=100.0, magnitude=0.4, mag_range=(0.0, 5.0))],
        ],
        temperature=1.0,
        random_state=random_state,
    )


def select(layer, k, strength=5.0):
    """Make candidate ``k`` of ``layer`` the most weighted one."""
    with torch.no_grad():
        layer.alpha.zero_()
        layer.alpha[k] = strength


def cap(transform):
    with torch.no_grad():
        transform.raw_magnitude.fill_(1.0)


def test_policy_table_columns_and_values():
    table = policy_table(module())
    assert list(table.columns) == COLUMNS
    assert table["layer"].tolist() == [0, 0, 1]
    assert table["transform"].tolist() == [
        "SignFlip",
        "GaussianNoise",
        "FrequencyShift",
    ]
    assert table["weight"].tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert table["magnitude"].tolist() == pytest.approx([0.4, 0.5, 0.4])
    # involutions learn their probability: magnitude / 2
    assert table["probability"].tolist() == pytest.approx([0.2, 1.0, 1.0])
    assert table["op_value"].tolist() == pytest.approx([0.2, 0.1, 2.0])
    assert table["mag_range"].tolist() == [(0.0, 0.5), (0.0, 0.2), (0.0, 5.0)]
    assert table["at_cap"].tolist() == [False, False, False]
    assert table["displacement"].tolist() == [1.0, 1.0, 1.0]  # not calibrated


def test_policy_table_reports_the_measured_displacement():
    layers = module()
    layers.layers[0].calibrate(torch.randn(64, 2, 200))
    table = policy_table(layers)
    assert table["displacement"].tolist()[:2] == pytest.approx(
        layers.layers[0].displacement.tolist()
    )
    assert table["displacement"][0] == pytest.approx(2**0.5, rel=0.1)  # sign flip


def test_policy_table_of_a_single_layer_marks_the_cap():
    layer = AugmentationLayer([T.GaussianNoise(), T.SignFlip()])
    cap(layer.transforms[0])
    cap(layer.transforms[1])
    table = policy_table(layer)
    # an involution at probability 0.5 is the largest invariance, not a cap
    assert table["at_cap"].tolist() == [True, False]
    assert table["op_value"].iloc[0] == pytest.approx(0.2)
    assert not math.isnan(table["op_value"].iloc[1])


def test_capped_transforms_names_the_transform_and_suggests_a_wider_range():
    aug = module()
    assert capped_transforms(policy_table(aug)) == []
    noise = aug.layers[0].transforms[1]
    cap(noise)
    select(aug.layers[0], 1)
    notes = capped_transforms(policy_table(aug))
    assert len(notes) == 1
    (note,) = notes
    assert "layer 0, GaussianNoise" in note
    assert "mag_range=(0, 0.2)" in note
    assert "widen mag_range" in note and "0.2 is the range's limit" in note


def test_capped_transforms_skips_unselected_transforms():
    aug = module()
    cap(aug.layers[0].transforms[1])
    select(aug.layers[0], 0)  # GaussianNoise weighs ~0.007
    table = policy_table(aug)
    assert table["at_cap"].iloc[1]
    assert capped_transforms(table) == []
    assert len(capped_transforms(table, min_weight=0.0)) == 1


def _history(*trajectories):
    """A history of ``module()``'s magnitudes: one trajectory per candidate."""
    return [{"aug_magnitudes": [[a, b], [c]]} for a, b, c in zip(*trajectories)]


def test_history_arrays_gives_one_array_per_layer():
    history = _history([0.1, 0.2], [0.3, 0.4], [0.5, 0.6])
    first, second = history_arrays(history, "aug_magnitudes")
    assert first.tolist() == [[0.1, 0.3], [0.2, 0.4]]
    assert second.tolist() == [[0.5], [0.6]]
    assert history_arrays(history, "aug_weights") == []
    assert history_arrays(None, "aug_magnitudes") == []  # no history at all


def test_policy_table_drift_flags_magnitudes_still_moving():
    rising = [0.40, 0.45, 0.50, 0.55, 0.60]  # +0.05 per epoch, every epoch
    wobbling = [0.50, 0.56, 0.50, 0.56, 0.52]  # moves, but not one way
    settled = [0.41, 0.411, 0.412, 0.413, 0.414]  # one way, but slowly
    table = policy_table(module(), history=_history(rising, wobbling, settled))
    assert list(table.columns) == COLUMNS + ["drift", "moving"]
    # the last 3 epochs: mean change per epoch
    assert table["drift"].tolist() == pytest.approx([0.05, -0.04 / 3, 0.001])
    assert table["moving"].tolist() == [True, False, False]
    assert abs(table["drift"].iloc[2]) < DRIFT_TOLERANCE < table["drift"].iloc[0]
    falling = policy_table(module(), history=_history(rising[::-1], rising, rising))
    assert falling["moving"].all() and falling["drift"].iloc[0] < 0


def test_policy_table_drift_ends_at_the_epoch_the_module_holds():
    # module(): magnitudes 0.4, 0.5, 0.4, those of epoch 3; training went on
    # to epoch 6 and the best epoch (3) was restored, as the main job does
    sign_flip = [0.25, 0.30, 0.35, 0.40, 0.45, 0.45, 0.45]
    table = policy_table(module(), history=_history(sign_flip, [0.5] * 7, [0.4] * 7))
    assert table["drift"].tolist() == pytest.approx([0.05, 0.0, 0.0])
    assert table["moving"].tolist() == [True, False, False]
    # no epoch recorded the module's magnitudes: the last epochs
    table = policy_table(module(), history=_history(sign_flip, [0.6] * 7, [0.4] * 7))
    assert table["drift"].tolist() == pytest.approx([0.05 / 3, 0.0, 0.0])
    assert not table["moving"].any()


def test_policy_table_drift_a_magnitude_at_its_bound_is_not_moving():
    # SignFlip rose to probability 0.5 (magnitude 1) at the shown epoch: it
    # can rise no further, so it is not "still moving" (the main job's report
    # said so of TimeReverse at 0.5)
    aug = module()
    cap(aug.layers[0].transforms[0])
    table = policy_table(
        aug, history=_history([0.85, 0.9, 0.95, 1.0], [0.5] * 4, [0.4] * 4)
    )
    assert table["drift"].iloc[0] == pytest.approx(0.05)
    assert not table["moving"].any()
    # the same rise short of the bound is moving
    rising = policy_table(
        module(), history=_history([0.25, 0.3, 0.35, 0.4], [0.5] * 4, [0.4] * 4)
    )
    assert rising["moving"].tolist() == [True, False, False]


def test_policy_table_drift_is_unknown_without_enough_epochs():
    short = _history([0.4, 0.5, 0.6], [0.4, 0.5, 0.6], [0.4, 0.5, 0.6])
    for history in (short, [], [{"train_loss": 1.0}] * 5):
        table = policy_table(module(), history=history)
        assert table["drift"].isna().all() and not table["moving"].any()
    other_layers = [{"aug_magnitudes": [[0.1 * k]]} for k in range(5)]
    assert policy_table(module(), history=other_layers)["drift"].isna().all()
    assert "drift" not in policy_table(module())  # no history: no columns


def test_unsettled_transforms_names_the_moving_selected_transforms():
    aug = module()
    select(aug.layers[0], 0)  # SignFlip selected, GaussianNoise ~0.007
    rising = [0.40, 0.45, 0.50, 0.55, 0.60]
    table = policy_table(aug, history=_history(rising, rising, rising[::-1]))
    notes = unsettled_transforms(table)
    assert len(notes) == 2  # GaussianNoise moves too, but is not selected
    assert notes[0].startswith("layer 0, SignFlip: magnitude still rising by 0.050")
    assert notes[1].startswith("layer 1, FrequencyShift: magnitude still falling")
    assert "train for more epochs" in notes[1]
    assert len(unsettled_transforms(table, min_weight=0.0)) == 3
    assert unsettled_transforms(policy_table(aug)) == []  # no history


def test_fixed_transforms_keeps_the_most_weighted_per_layer():
    aug = module()
    select(aug.layers[0], 1)
    frozen = fixed_transforms(aug)
    assert [type(tr).__name__ for tr in frozen] == ["GaussianNoise", "FrequencyShift"]
    original = aug.layers[0].transforms[1]
    for tr in frozen:
        assert not tr.training
        assert not any(p.requires_grad for p in tr.parameters())
    assert frozen[0] is not original
    assert frozen[0].magnitude.item() == pytest.approx(0.5)
    cap(original)  # copies: training the module further leaves them alone
    assert frozen[0].magnitude.item() == pytest.approx(0.5)
    assert original.raw_magnitude.requires_grad


def test_fixed_transforms_with_a_minimum_weight_keeps_several():
    aug = module()
    frozen = fixed_transforms(aug, min_weight=0.3)  # both weigh 0.5 in layer 0
    assert [type(tr).__name__ for tr in frozen] == [
        "SignFlip",
        "GaussianNoise",
        "FrequencyShift",
    ]
    assert frozen[0].probability.item() == pytest.approx(0.2)
    assert [type(tr).__name__ for tr in fixed_transforms(aug, min_weight=0.9)] == [
        "FrequencyShift"
    ]


@pytest.mark.parametrize(
    "read", [policy_table, fixed_transforms, capped_transforms, unsettled_transforms]
)
def test_an_unfitted_classifier_is_refused_as_not_fitted(read):
    with pytest.raises(NotFittedError, match="not fitted yet: call fit first"):
        read(make_clf())


def test_notes_take_what_policy_table_takes_and_an_empty_table():
    mod = module()
    cap(mod.layers[0].transforms[1])
    select(mod.layers[0], 1)
    assert capped_transforms(mod) == capped_transforms(policy_table(mod))
    assert len(capped_transforms(mod)) == 1
    empty = policy_table([])
    assert list(empty.columns) == COLUMNS and empty.empty
    assert capped_transforms(empty) == [] and unsettled_transforms(empty) == []
