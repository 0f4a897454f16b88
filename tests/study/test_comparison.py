"""Tests of the paired statistics of the sleep job (exact values)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from braindecode_augnet.study.comparison import (
    bootstrap_interval,
    compare_methods,
    min_detectable_difference,
    paired_differences,
    paired_stats,
    resolution_sentence,
    wilcoxon_p,
)

DIFFS = np.array([0.1, 0.2, -0.05, 0.0, 0.3, 0.15])


def _runs(scores):
    """Runs from ``{method: [score per (seed, fold)]}``, 2 seeds x 3 folds."""
    rows = []
    for method, values in scores.items():
        for k, value in enumerate(values):
            rows.append(
                {
                    "method": method,
                    "seed": k // 3,
                    "fold": k % 3,
                    "train_size": 1.0,
                    "balanced_accuracy": value,
                }
            )
    return pd.DataFrame(rows)


def test_paired_stats_of_known_differences():
    result = paired_stats(DIFFS)
    assert result["n"] == 6
    assert result["median"] == pytest.approx(0.125)  # (0.1 + 0.15) / 2
    assert result["mean"] == pytest.approx(0.7 / 6)
    assert result["sd"] == pytest.approx(np.std(DIFFS, ddof=1))
    assert (result["wins"], result["ties"], result["losses"]) == (4, 1, 1)
    assert result["p_value"] == pytest.approx(stats.wilcoxon(DIFFS).pvalue)
    assert result["ci_low"] <= result["median"] <= result["ci_high"]
    assert result["ci_low"] >= DIFFS.min() and result["ci_high"] <= DIFFS.max()


def test_wilcoxon_is_untestable_without_nonzero_differences():
    assert wilcoxon_p([]) is None
    assert wilcoxon_p([0.0, 0.0, 0.0]) is None
    # five pairs all ahead: the smallest two-sided exact p-value, 2 / 2**5
    assert wilcoxon_p([0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx(0.0625)
    assert wilcoxon_p([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) == pytest.approx(2 / 2**6)


def test_bootstrap_interval_is_seeded_and_degenerate_on_constants():
    assert bootstrap_interval([0.2] * 5) == (pytest.approx(0.2), pytest.approx(0.2))
    assert bootstrap_interval(DIFFS) == bootstrap_interval(DIFFS)
    low, high = bootstrap_interval(DIFFS, statistic=np.mean)
    assert low < DIFFS.mean() < high
    assert all(math.isnan(v) for v in bootstrap_interval([]))


def test_min_detectable_difference_formula():
    sd = np.std(DIFFS, ddof=1)
    factor = stats.t.ppf(0.975, 5) + stats.t.ppf(0.8, 5)
    assert min_detectable_difference(DIFFS) == pytest.approx(factor * sd / 6**0.5)
    assert min_detectable_difference([0.1]) is None
    # more pairs of the same spread resolve smaller differences
    assert min_detectable_difference(np.tile(DIFFS, 4)) < min_detectable_difference(
        DIFFS
    )


def test_resolution_sentence_says_when_significance_is_out_of_reach():
    five = paired_stats(DIFFS[:5])
    sentence = resolution_sentence(five)
    assert "With 5 pairs" in sentence and f"{five['mdd']:.3f}" in sentence
    assert "cannot reach p < 0.05" in sentence and "0.0625" in sentence
    assert "cannot reach" not in resolution_sentence(paired_stats(DIFFS))
    assert "spread of the differences is unknown" in resolution_sentence(
        paired_stats([0.1])
    )


def test_differences_are_paired_by_seed_fold_and_size():
    runs = _runs({"none": [0.5, 0.6, 0.7, 0.8, 0.9, 0.4]})
    augnet = runs.assign(
        method="augnet", balanced_accuracy=runs.balanced_accuracy + DIFFS
    )
    extra = pd.DataFrame(  # a run of augnet alone: no pair
        [
            {
                "method": "augnet",
                "seed": 9,
                "fold": 0,
                "train_size": 1.0,
                "balanced_accuracy": 0.0,
            }
        ]
    )
    both = pd.concat([augnet.iloc[::-1], runs, extra], ignore_index=True)
    d = paired_differences(both, "augnet", "none")
    np.testing.assert_allclose(d.to_numpy(), DIFFS)  # sorted by (seed, fold)
    assert list(d.index.names) == ["seed", "fold", "train_size"]
    with pytest.raises(ValueError, match="several runs"):
        paired_differences(pd.concat([both, runs]), "augnet", "none")


def test_compare_methods_every_later_method_against_earlier_ones():
    base = [0.5, 0.6, 0.7, 0.8, 0.9, 0.4]
    runs = _runs(
        {
            "none": base,
            "random": base,  # identical: all ties, no p-value
            "augnet": list(np.add(base, DIFFS)),
        }
    )
    small = runs.assign(train_size=0.5)
    table = compare_methods(pd.concat([runs, small]), ["none", "random", "augnet"])
    assert (
        list(table["pair"])
        == [
            "random - none",
            "augnet - none",
            "augnet - random",
        ]
        * 2
    )
    assert list(table["train_size"]) == [0.5] * 3 + [1.0] * 3
    ties = table.iloc[0]
    assert pd.isna(ties["p_value"]) and ties["ties"] == 6 and ties["median"] == 0
    augnet = table.iloc[4]
    assert augnet["n"] == 6 and augnet["median"] == pytest.approx(0.125)
    assert augnet["p_value"] == pytest.approx(stats.wilcoxon(DIFFS).pvalue)
