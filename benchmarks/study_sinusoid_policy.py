"""Study of the learned sinusoid policy: which candidate, what range.

The paper's sinusoid problem (classes 2/4/6/8 Hz, jitter +-0.5 Hz, 10 s at
100 Hz; one layer of FrequencyShift 0-2 Hz, FTSurrogate 0-0.1 and
GaussianNoise 0-0.1) trained with AugNetClassifier for several trunks, seeds
and settings. One JSON line per run: the candidate with the largest weight,
the learned maximal shift in Hz, every magnitude, the test accuracy and the
shift's trajectory over epochs; then a summary per trunk. Used for the
"Choosing the defaults: what the policy learns" section of
benchmarks/README.rst (findings behind the defaults), e.g.::

    python -m benchmarks.study_sinusoid_policy                      # defaults
    python -m benchmarks.study_sinusoid_policy --sampling sampled
    python -m benchmarks.study_sinusoid_policy --reg-scale magnitude  # paper's R
    python -m benchmarks.study_sinusoid_policy --reg 1.0 --magnitude-lr 0.03

Every option left out takes the package's default.
"""

import argparse
import json
import time

import numpy as np
import torch

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.study_sinusoid_policy (repository root)")

from braindecode_augnet import AugNetClassifier, sinusoid_augmentation  # noqa: E402
from braindecode_augnet.datasets import make_sinusoids  # noqa: E402
from braindecode_augnet.study.toy_models import (  # noqa: E402
    SINUSOID_TRAINING,
    ToyConvNet,
    ToyMLP,
)

from . import _common as C  # noqa: E402

TRUNKS = {
    "mlp": (ToyMLP, {}),
    "mlp-large": (ToyMLP, {"module__hidden": 256, "module__depth": 2}),
    "conv": (ToyConvNet, {}),
}
TARGET_HZ = (0.2, 1.3)  # issue 8: the range of a learned policy, true jitter 0.5


def run(trunk, seed, args):
    X, y = make_sinusoids(random_state=seed)
    X_test, y_test = make_sinusoids(random_state=100 + seed)
    cls, trunk_kwargs = TRUNKS[trunk]
    extra = {
        name: getattr(args, name)
        for name in ("reg", "reg_scale", "magnitude_lr", "aug_lr")
        if getattr(args, name) is not None
    }
    torch.manual_seed(seed)
    start = time.perf_counter()
    clf = AugNetClassifier(
        cls,
        **trunk_kwargs,
        augmentation=sinusoid_augmentation(
            100.0, sampling=args.sampling, temperature=args.temperature
        ),
        n_copies=20,
        random_state=seed,
        **{**SINUSOID_TRAINING, "max_epochs": args.epochs},
        **extra,
    ).fit(X, y)
    policy = clf.policy_.set_index("transform")
    return {
        "trunk": trunk,
        "seed": seed,
        "sampling": args.sampling,
        "reg": clf.current_reg(),
        "reg_scale": clf.current_reg_scale(),
        "magnitude_lr": args.magnitude_lr,
        "selected": policy["weight"].idxmax(),
        "shift_weight": round(float(policy.loc["FrequencyShift", "weight"]), 3),
        "max_shift_hz": round(float(policy.loc["FrequencyShift", "op_value"]), 3),
        "magnitudes": {k: round(float(v), 3) for k, v in policy["magnitude"].items()},
        "test_accuracy": float((clf.predict(X_test) == y_test).mean()),
        "time_s": round(time.perf_counter() - start, 1),
        "shift_trajectory_hz": [
            round(2 * magnitudes[0][0], 3)
            for magnitudes in clf.history[:, "aug_magnitudes"]
        ],
    }


def _trunks(text):
    names = text.split(",")
    unknown = [name for name in names if name not in TRUNKS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown trunk(s) {', '.join(map(repr, unknown))}: choose from "
            f"{', '.join(TRUNKS)} (comma-separated)"
        )
    return names


def _seeds(text):
    return [C.nonnegative_int(seed) for seed in text.split(",")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trunks", type=_trunks, default="mlp,conv", help="of " + ",".join(TRUNKS)
    )
    parser.add_argument("--seeds", type=_seeds, default="0,1,2,3,4")
    parser.add_argument("--sampling", default="mixture", choices=["mixture", "sampled"])
    parser.add_argument("--reg", type=float, default=None)
    parser.add_argument(
        "--reg-scale", default=None, choices=["displacement", "magnitude"]
    )
    parser.add_argument("--temperature", type=C.positive_float, default=0.05)
    parser.add_argument("--magnitude-lr", type=C.positive_float, default=None)
    parser.add_argument("--aug-lr", type=C.positive_float, default=None)
    parser.add_argument("--epochs", type=C.positive_int, default=30)
    parser.add_argument("--threads", type=C.positive_int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for trunk in args.trunks:
        for seed in args.seeds:
            rows.append(run(trunk, seed, args))
            print(json.dumps(rows[-1]), flush=True)
    for line in summary(rows):
        print(line)
    return rows


def summary(rows):
    """One line per trunk: selections, range of the learned shifts, accuracy."""
    lines = []
    for trunk in dict.fromkeys(row["trunk"] for row in rows):
        runs = [row for row in rows if row["trunk"] == trunk]
        chosen = [row for row in runs if row["selected"] == "FrequencyShift"]
        shifts = [row["max_shift_hz"] for row in chosen]
        inside = sum(TARGET_HZ[0] <= hz <= TARGET_HZ[1] for hz in shifts)
        accuracy = [row["test_accuracy"] for row in runs]
        lines.append(
            f"{trunk} ({runs[0]['sampling']}): FrequencyShift selected in "
            f"{len(chosen)}/{len(runs)} runs, max shift "
            + (f"{min(shifts):.2f}-{max(shifts):.2f} Hz" if shifts else "-")
            + f" ({inside}/{len(runs)} in {TARGET_HZ[0]}-{TARGET_HZ[1]} Hz), "
            f"test accuracy {np.mean(accuracy):.3f} +- {np.std(accuracy):.3f}"
        )
    return lines


if __name__ == "__main__":
    main()
