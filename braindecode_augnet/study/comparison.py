"""Paired statistics of the sleep job's comparison of methods.

Every run of the job is one (method, seed, fold, training size); two
methods trained on the same seed, fold and size saw the same subjects, the
same initialisation seed and the same test set, so their difference is
paired. The functions here turn such differences into what a reader needs
to judge them: how many pairs, the median and mean difference, a bootstrap
interval of the median, the Wilcoxon signed-rank p-value, wins, ties and
losses, and how small a difference the design could detect at all.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "PAIR_KEYS",
    "bootstrap_interval",
    "compare_methods",
    "min_detectable_difference",
    "paired_differences",
    "paired_stats",
    "resolution_sentence",
    "wilcoxon_p",
]

#: Columns that identify a pair: the same seed, fold and training size.
PAIR_KEYS = ("seed", "fold", "train_size")

#: Bootstrap resamples of the intervals.
N_BOOTSTRAP = 10_000

#: Fewest pairs with which the two-sided exact Wilcoxon test can reach
#: p < 0.05 (its smallest p-value is 2 / 2**n: 0.0625 with 5 pairs).
MIN_PAIRS_FOR_SIGNIFICANCE = 6


def paired_differences(results, method, baseline, score="balanced_accuracy"):
    """Differences ``method - baseline`` of ``score``, paired by run.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per run with ``method``, ``score`` and the columns of
        :data:`PAIR_KEYS` that it has.
    method, baseline : str
        The two methods.
    score : str
        The score column.

    Returns
    -------
    pandas.Series
        One difference per pair met by both methods, indexed by the pair
        keys, sorted.
    """
    keys = [key for key in PAIR_KEYS if key in results]
    a = results[results["method"] == method].set_index(keys)[score]
    b = results[results["method"] == baseline].set_index(keys)[score]
    for name, side in ((method, a), (baseline, b)):
        if side.index.has_duplicates:
            raise ValueError(f"{name!r} has several runs for one {tuple(keys)}.")
    common = a.index.intersection(b.index).sort_values()
    return a.loc[common] - b.loc[common]


def bootstrap_interval(
    values, statistic=np.median, confidence=0.95, n_resamples=N_BOOTSTRAP, seed=0
):
    """Percentile bootstrap interval of ``statistic`` over ``values``.

    Returns ``(low, high)``, ``(nan, nan)`` without values. Seeded, so that
    a report is reproduced to the digit.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    index = rng.integers(0, values.size, size=(n_resamples, values.size))
    resampled = statistic(values[index], axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


def wilcoxon_p(differences):
    """Two-sided Wilcoxon signed-rank p-value of paired differences.

    ``None`` (reported as "-") when there is nothing to test: no pair, or
    every difference 0 (scipy's default drops zero differences).
    """
    differences = np.asarray(differences, dtype=float)
    if differences.size == 0 or not np.any(differences != 0):
        return None
    return float(stats.wilcoxon(differences).pvalue)


def min_detectable_difference(differences, alpha=0.05, power=0.8):
    """Smallest mean paired difference the design detects with ``power``.

    The paired t-test's minimal detectable difference,
    ``(t(1 - alpha/2) + t(power)) * sd / sqrt(n)`` with ``n - 1`` degrees of
    freedom, from the spread of the observed differences (the Wilcoxon test
    is about as powerful, 95 % as efficient under normal noise). ``None``
    with fewer than 2 pairs.
    """
    differences = np.asarray(differences, dtype=float)
    n = differences.size
    if n < 2:
        return None
    sd = float(np.std(differences, ddof=1))
    dof = n - 1
    factor = stats.t.ppf(1 - alpha / 2, dof) + stats.t.ppf(power, dof)
    return float(factor * sd / math.sqrt(n))


def paired_stats(differences, seed=0):
    """Summary of paired differences.

    Returns
    -------
    dict
        ``n``, ``median``, ``mean``, ``sd``, ``ci_low``, ``ci_high``
        (bootstrap 95 % interval of the median), ``p_value`` (Wilcoxon,
        ``None`` when untestable), ``wins``, ``ties``, ``losses`` (pairs
        where the first method is ahead, level, behind) and ``mdd`` (see
        :func:`min_detectable_difference`).
    """
    d = np.asarray(differences, dtype=float)
    n = int(d.size)
    low, high = bootstrap_interval(d, seed=seed)
    return {
        "n": n,
        "median": float(np.median(d)) if n else math.nan,
        "mean": float(np.mean(d)) if n else math.nan,
        "sd": float(np.std(d, ddof=1)) if n > 1 else math.nan,
        "ci_low": low,
        "ci_high": high,
        "p_value": wilcoxon_p(d),
        "wins": int(np.sum(d > 0)),
        "ties": int(np.sum(d == 0)),
        "losses": int(np.sum(d < 0)),
        "mdd": min_detectable_difference(d),
    }


def resolution_sentence(row):
    """One sentence on what a comparison of ``row['n']`` pairs can resolve."""
    n, mdd = row["n"], row["mdd"]
    if n < 2 or mdd is None:
        sentence = f"With {n} pair(s), the spread of the differences is unknown"
    else:
        sentence = (
            f"With {n} pairs and differences spread by {row['sd']:.3f} (standard "
            f"deviation), differences below about {mdd:.3f} cannot be told from "
            "noise (minimal detectable paired difference at alpha 0.05 and 80 % "
            "power)"
        )
    if n < MIN_PAIRS_FOR_SIGNIFICANCE:
        sentence += (
            f"; with fewer than {MIN_PAIRS_FOR_SIGNIFICANCE} pairs the Wilcoxon "
            f"test cannot reach p < 0.05 (its smallest p-value is "
            f"{2 / 2**n if n else 1:.3g})"
        )
    return sentence + "."


def compare_methods(results, methods=None, score="balanced_accuracy"):
    """Paired statistics of every pair of methods, per training size.

    Each later method of ``methods`` is compared with each earlier one
    (``'augnet - none'`` for methods ``('none', 'augnet')``).

    Parameters
    ----------
    results : pandas.DataFrame
        One row per run (see :func:`paired_differences`).
    methods : sequence of str | None
        Methods in order (default: their order in ``results``).
    score : str
        The score compared.

    Returns
    -------
    pandas.DataFrame
        One row per (``train_size``, ``method``, ``baseline``) with
        ``pair`` (``'method - baseline'``) and the entries of
        :func:`paired_stats`.
    """
    if methods is None:
        methods = list(dict.fromkeys(results["method"]))
    sizes = (
        sorted(results["train_size"].unique()) if "train_size" in results else [None]
    )
    rows = []
    for size in sizes:
        part = results if size is None else results[results["train_size"] == size]
        for j, method in enumerate(methods):
            for baseline in methods[:j]:
                d = paired_differences(part, method, baseline, score)
                rows.append(
                    {
                        "train_size": size,
                        "pair": f"{method} - {baseline}",
                        "method": method,
                        "baseline": baseline,
                        **paired_stats(d.to_numpy()),
                    }
                )
    return pd.DataFrame(rows)
