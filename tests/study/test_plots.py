"""Tests of the sleep figures: confusion matrices and hypnograms."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from braindecode_augnet.datasets import SLEEP_STAGE_NAMES  # noqa: E402
from braindecode_augnet.study.plots import (  # noqa: E402
    HYPNOGRAM_ORDER,
    plot_confusion_matrices,
    plot_hypnogram,
    plot_learning_curve,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(ticklabels):
    return [t.get_text() for t in ticklabels]


def test_confusion_matrices_one_panel_per_method():
    y = np.array([0, 0, 1, 2, 3, 4, 4, 4])
    predictions = {"none": np.array([0, 1, 1, 2, 3, 4, 0, 0]), "augnet": y}
    fig = plot_confusion_matrices(y, predictions)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == [
        "none: normalised confusion",
        "augnet: normalised confusion",
    ]
    none = fig.axes[0].get_images()[0].get_array()
    assert none.shape == (len(SLEEP_STAGE_NAMES),) * 2
    np.testing.assert_allclose(np.asarray(none).sum(axis=1), 1.0)
    np.testing.assert_allclose(none[0], [0.5, 0.5, 0, 0, 0])  # W half right
    np.testing.assert_allclose(none[4], [2 / 3, 0, 0, 0, 1 / 3])
    np.testing.assert_allclose(fig.axes[1].get_images()[0].get_array(), np.eye(5))
    assert _labels(fig.axes[0].get_xticklabels()) == list(SLEEP_STAGE_NAMES)
    assert len(fig.axes[0].texts) == len(SLEEP_STAGE_NAMES) ** 2


def test_confusion_follows_the_stage_names_not_a_fixed_count():
    y = np.array([0, 1, 2, 2])
    fig = plot_confusion_matrices(y, {"m": y}, stage_names=("Wake", "NREM", "REM"))
    (ax,) = fig.axes
    assert ax.get_images()[0].get_array().shape == (3, 3)
    assert len(ax.texts) == 9
    assert _labels(ax.get_yticklabels()) == ["Wake", "NREM", "REM"]


def test_hypnogram_stages_top_to_bottom():
    y_true = np.array([0, 1, 2, 3, 4, 2])
    y_pred = np.array([0, 0, 2, 3, 4, 4])
    fig = plot_hypnogram(y_true, y_pred, subject=3)
    (ax,) = fig.axes
    ticks = sorted(zip(ax.get_yticks(), _labels(ax.get_yticklabels())), reverse=True)
    assert [name for _, name in ticks] == list(HYPNOGRAM_ORDER)
    expert, predicted = ax.get_lines()
    # W at the top (0), then REM, N1, N2, N3 one level lower each
    np.testing.assert_allclose(expert.get_ydata(), [0, -2, -3, -4, -1, -3])
    np.testing.assert_allclose(
        predicted.get_ydata(), np.array([0, 0, -3, -4, -1, -1]) - 0.08
    )
    np.testing.assert_allclose(expert.get_xdata()[-1], 5 * 30 / 3600)
    assert ax.get_title() == "Hypnogram of test subject 3: expert vs AugNet"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["expert", "AugNet"]


def test_hypnogram_of_other_stage_sets():
    fig = plot_hypnogram(
        [0, 1, 2],
        [0, 2, 2],
        label="none",
        stage_names=("N", "R", "W"),
        order=("W", "R"),
    )
    (ax,) = fig.axes
    ticks = sorted(zip(ax.get_yticks(), _labels(ax.get_yticklabels())), reverse=True)
    assert [name for _, name in ticks] == ["W", "R", "N"]  # unlisted stage last
    assert ax.get_title() == "Hypnogram: expert vs none"


def test_hypnogram_legend_beside_the_trace():
    # issue 28 item 2: the legend sat inside the axes, over the night
    fig = plot_hypnogram(np.zeros(120, int), np.full(120, 4), subject=1)
    (ax,) = fig.axes
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    axes = ax.get_window_extent(renderer)
    assert legend.x0 >= axes.x1
    assert legend.x1 <= fig.bbox.x1  # still inside the figure


def test_confusion_refuses_stages_outside_the_stage_names():
    # probe 3 finding 5: stages coded 1..5 lost "W" and class 5 silently
    y = np.array([1, 2, 3, 4, 5])
    match = r"y_true must hold .*y_true holds labels not in .*\[5\].*y - 1"
    with pytest.raises(ValueError, match=match):
        plot_confusion_matrices(y, {"m": y})
    assert not plt.get_fignums()  # refused before drawing
    fig = plot_confusion_matrices(y - 1, {"m": y - 1})
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), np.eye(5))


def test_confusion_refuses_fewer_stage_names_than_classes():
    y = np.arange(5)
    with pytest.raises(ValueError, match=r"3 names .*\[3, 4\]"):
        plot_confusion_matrices(y, {"m": y}, stage_names=("W", "N", "R"))
    with pytest.raises(ValueError, match=r"predictions\['m'\] must hold"):
        plot_confusion_matrices(y % 3, {"m": y}, stage_names=("W", "N", "R"))


@pytest.mark.parametrize(
    "predictions, error, message",
    [
        ([np.arange(5)], TypeError, "predictions must be a dict .* got list"),
        ({}, ValueError, "predictions is empty"),
        ({"m": np.arange(3)}, ValueError, r"predictions\['m'\] holds 3 stages"),
    ],
)
def test_confusion_refuses_bad_predictions(predictions, error, message):
    with pytest.raises(error, match=message):
        plot_confusion_matrices(np.arange(5), predictions)
    assert not plt.get_fignums()


@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [
        ([0, 1, 5], [0, 1, 2], r"y_true must hold .*\[5\]"),
        ([0, 1, 2], ["W", "N1", "N2"], r"y_pred must hold .*\['N1', 'N2', 'W'\]"),
        ([0, 1, 2], [0, 1], "y_pred holds 2 stages and y_true 3"),
        (np.zeros((2, 3), int), np.zeros((2, 3), int), "y_true must hold .*1d"),
    ],
)
def test_hypnogram_refuses_bad_stages(y_true, y_pred, message):
    # probe 3 finding 15: KeyError, or matplotlib's error on lengths
    with pytest.raises(ValueError, match=message):
        plot_hypnogram(y_true, y_pred)
    assert not plt.get_fignums()


@pytest.mark.parametrize("epoch_s", [0, -30])
def test_hypnogram_refuses_an_epoch_length_that_is_not_positive(epoch_s):
    with pytest.raises(ValueError, match="epoch_s must be a number > 0"):
        plot_hypnogram([0, 1], [0, 1], epoch_s=epoch_s)
    assert not plt.get_fignums()


def test_hypnogram_refuses_an_order_naming_an_unknown_stage():
    # "R" for "REM" was ignored and REM dropped to the bottom
    with pytest.raises(ValueError, match=r"order names .*\['R'\].*'REM'"):
        plot_hypnogram([0, 4], [0, 4], order=("W", "R", "N1", "N2", "N3"))
    # the default order (None) ranks the clinical stages among stage_names
    (ax,) = plot_hypnogram([0, 1, 2], [0, 1, 2], stage_names=("N", "R", "W")).axes
    ticks = sorted(zip(ax.get_yticks(), _labels(ax.get_yticklabels())), reverse=True)
    assert [name for _, name in ticks] == ["W", "N", "R"]
    # HYPNOGRAM_ORDER given explicitly (the old default) is the default
    names = ("W", "N1", "N2", "N3")
    assert plot_hypnogram([0, 3], [0, 3], stage_names=names, order=HYPNOGRAM_ORDER)


def test_learning_curve_refuses_unknown_methods_and_scores():
    results = pd.DataFrame(
        {
            "method": ["a", "a", "b", "b"],
            "train_size": [0.5, 1.0, 0.5, 1.0],
            "n_train_subjects": [2, 4, 2, 4],
            "balanced_accuracy": [0.6, 0.7, 0.5, 0.8],
        }
    )
    assert len(plot_learning_curve(results).axes[0].get_lines()) == 2
    plt.close("all")
    with pytest.raises(ValueError, match=r"no run in results: \['augnet'\]"):
        plot_learning_curve(results, methods=["a", "augnet"])
    with pytest.raises(ValueError, match="score='balanced_acc' is not a column"):
        plot_learning_curve(results, score="balanced_acc")
    assert not plt.get_fignums()
