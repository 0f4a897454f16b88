"""Tests of the policy plot."""

import copy

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from braindecode_augnet import AugmentationModule, plot_policy  # noqa: E402
from braindecode_augnet import transforms as T  # noqa: E402

from ..conftest import make_clf, toy_data  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted_clf():
    X, y = toy_data()
    return make_clf(max_epochs=2).fit(X, y)


def _legend_texts(fig):
    legends = list(fig.legends) + [
        sub_legend for sub in fig.subfigs for sub_legend in sub.legends
    ]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def test_plot_policy_of_a_fitted_classifier_draws_trajectories(fitted_clf):
    fig = plot_policy(fitted_clf)
    # one row per layer (2 here): weights (left) and magnitudes (right)
    axes = np.array(fig.axes).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["weight", "magnitude"]
    # one trajectory line per candidate transform of layer 0, over 2 epochs
    lines = axes[0, 0].get_lines()
    assert len(lines) == 2 and len(lines[0].get_xdata()) == 2
    # the only candidate of layer 1 has weight 1 at every epoch
    np.testing.assert_allclose(axes[1, 0].get_lines()[0].get_ydata(), 1.0)
    # the legends, outside the axes, name every candidate with its final values
    texts = _legend_texts(fig)
    assert len(texts) == 3
    assert texts[0].startswith("SignFlip (w ") and "FrequencyShift (w 1.00" in texts[2]


def test_plot_policy_fits_a_page_width(fitted_clf):
    width, _ = plot_policy(fitted_clf).get_size_inches()
    assert width <= 7
    width, _ = plot_policy(fitted_clf.module_).get_size_inches()
    assert width <= 7


def test_plot_policy_of_a_module_has_only_the_final_policy():
    module = AugmentationModule([[T.GaussianNoise(), T.SignFlip()]])
    fig = plot_policy(module)
    assert len(fig.axes) == 1 and len(fig.axes[0].patches) == 4
    # the weight / magnitude legend is outside the axes, hiding no bar
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1


def test_plot_policy_marks_capped_magnitudes(fitted_clf):
    module = AugmentationModule([[T.GaussianNoise(magnitude=1.0), T.SignFlip()]])
    fig = plot_policy(module)
    assert [text.get_text() for text in fig.axes[0].texts] == ["cap"]
    capped = copy.deepcopy(fitted_clf)
    noise = capped.module_.augmentation.layers[0].transforms[1]
    assert type(noise).__name__ == "GaussianNoise"
    noise.raw_magnitude.data.fill_(1.0)
    texts = _legend_texts(plot_policy(capped))
    assert texts[1].startswith("GaussianNoise") and texts[1].endswith(", cap)")


def test_plot_policy_marks_magnitudes_still_moving(fitted_clf):
    moving = copy.deepcopy(fitted_clf)
    layer = moving.module_.augmentation.layers[0]
    n = len(layer.transforms)
    for k, step in enumerate(moving.history):  # the first candidate rises
        step["aug_magnitudes"][0] = [0.1 * k] + [0.5] * (n - 1)
    for _ in range(3):  # two epochs are too few to tell: add three
        moving.history.append(copy.deepcopy(moving.history[-1]))
        k = len(moving.history) - 1
        moving.history[-1]["aug_magnitudes"][0] = [0.1 * k] + [0.5] * (n - 1)
    texts = _legend_texts(plot_policy(moving))
    assert texts[0].endswith(", moving)") and not texts[1].endswith(", moving)")
    assert not any(
        text.endswith(", moving)") for text in _legend_texts(plot_policy(fitted_clf))
    )


def test_plot_policy_draws_on_given_axes(fitted_clf):
    fig, axes = plt.subplots(2, 2)
    assert plot_policy(fitted_clf, axes=axes) is fig
    assert len(axes[0, 0].get_lines()) == 2 and axes[0, 1].get_legend() is not None
    fig, axes = plt.subplots(2, 1)
    assert plot_policy(fitted_clf, axes=axes, show_trajectory=False) is fig
    assert len(axes[0].patches) == 4 and axes[0].get_title() == "Layer 0"


def test_plot_policy_refuses_what_holds_no_policy():
    with pytest.raises(ValueError, match="no policy to plot"):
        plot_policy([])
