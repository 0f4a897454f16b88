"""Tests of the sleep figures: confusion matrices and hypnograms."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from braindecode_augnet.datasets import SLEEP_STAGE_NAMES  # noqa: E402
from braindecode_augnet.study.plots import (  # noqa: E402
    HYPNOGRAM_ORDER,
    plot_confusion_matrices,
    plot_hypnogram,
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
