"""Tests of the policy plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from braindecode_augnet import AugmentationModule, plot_policy  # noqa: E402
from braindecode_augnet import transforms as T  # noqa: E402

from .conftest import make_clf, toy_data  # noqa: E402


def test_plot_policy_of_a_fitted_classifier_draws_trajectories():
    X, y = toy_data()
    clf = make_clf(max_epochs=2).fit(X, y)
    fig = plot_policy(clf)
    axes = np.array(fig.axes).reshape(3, 2)
    assert axes[0, 0].get_title() == "Layer 0: learned policy"
    # one trajectory line per candidate transform of layer 0, over 2 epochs
    lines = axes[1, 0].get_lines()
    assert len(lines) == 2 and len(lines[0].get_xdata()) == 2
    heights = [p.get_height() for p in axes[0, 1].patches]
    np.testing.assert_allclose(heights[0], 1.0)  # the only weight of layer 1


def test_plot_policy_of_a_module_has_only_the_final_policy():
    module = AugmentationModule([[T.GaussianNoise(), T.SignFlip()]])
    fig = plot_policy(module)
    assert len(fig.axes) == 1 and len(fig.axes[0].patches) == 4
