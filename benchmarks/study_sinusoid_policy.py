"""Study of the learned sinusoid policy: which candidate, what range.

The paper's sinusoid problem (classes 2/4/6/8 Hz, jitter +-0.5 Hz, 10 s at
100 Hz; one layer of FrequencyShift 0-2 Hz, FTSurrogate 0-0.1 and
GaussianNoise 0-0.1) trained with AugNetClassifier for several trunks, seeds
and settings. One JSON line per run: the candidate with the largest weight,
the learned maximal shift in Hz, every magnitude, the test accuracy and the
shift's trajectory over epochs. Used for the "What is still open" section of
docs/method.rst, e.g.::

    python benchmarks/study_sinusoid_policy.py --trunks mlp,conv --seeds 0,1,2,3,4
    python benchmarks/study_sinusoid_policy.py --magnitude-lr 0.003
    python benchmarks/study_sinusoid_policy.py --budget 0.03  # adaptive reg

``--budget EPS`` replaces the fixed regulariser weight by one adapted at
every step (multiplicatively, starting from ``--reg``) so that the augmented
training copies are misclassified at most ``EPS`` more often than the clean
inputs: an experiment, not a package option.
"""

import argparse
import json
import time

import numpy as np
import torch
from braindecode import EEGClassifier
from torch import nn

from braindecode_augnet import (
    AugNetClassifier,
    augmentation_regularizer,
    sinusoid_augmentation,
)
from braindecode_augnet.datasets import make_sinusoids
from braindecode_augnet.layers import augmentation_layers


class MLP(nn.Module):
    """Fully connected trunk on the raw samples."""

    def __init__(
        self, hidden=32, depth=1, n_chans=1, n_times=1000, n_outputs=4, **kwargs
    ):
        super().__init__()
        layers, width = [nn.Flatten()], n_chans * n_times
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, n_outputs))

    def forward(self, x):
        return self.net(x)


class SmallConv(nn.Module):
    """Two convolutions, 8 filters, pooled to 8 steps, then a linear layer."""

    def __init__(self, n_chans=1, n_times=1000, n_outputs=4, width=8, **kwargs):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(n_chans, width, 25, stride=2),
            nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Conv1d(width, width, 9),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(8),
            nn.Flatten(),
            nn.Linear(8 * width, n_outputs),
        )

    def forward(self, x):
        return self.net(x)


TRUNKS = {
    "mlp": (MLP, {}),
    "mlp-large": (MLP, {"module__hidden": 256, "module__depth": 2}),
    "conv": (SmallConv, {}),
}


def capfree_regularizer(obj):
    """The regulariser with no reward to the weights of capped candidates."""
    parts = []
    for layer in augmentation_layers(obj):
        capped = torch.tensor([tr.at_cap for tr in layer.transforms])
        weights = torch.where(capped, layer.weights.detach(), layer.weights)
        parts.append(weights * layer.magnitudes())
    return torch.cat(parts).norm()


class CapFreeAugNet(AugNetClassifier):
    """AugNetClassifier whose regulariser ignores the weights of capped ones."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        nll = EEGClassifier.get_loss(self, y_pred, y_true, X=X, training=training)
        if not training:
            return nll
        penalty = capfree_regularizer(self.module_)
        self.history.record_batch("aug_reg", penalty.item())
        return nll - self.current_reg() * penalty


class BudgetAugNet(AugNetClassifier):
    """AugNetClassifier whose regulariser weight follows a flip budget."""

    def __init__(self, *args, budget=0.03, budget_rate=0.05, **kwargs):
        self.budget = budget
        self.budget_rate = budget_rate
        super().__init__(*args, **kwargs)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        nll = EEGClassifier.get_loss(self, y_pred, y_true, X=X, training=training)
        if not training:
            return nll
        if not hasattr(self, "log_reg_"):
            self.log_reg_, self.gap_ = float(np.log(self.current_reg())), 0.0
        with torch.no_grad():
            clean = self.module_.trunk(X.to(y_pred.device)).argmax(1)
            gap = (y_pred.argmax(1) != y_true).float().mean() - (
                (clean != y_true).float().mean()
            )
        self.gap_ = 0.9 * self.gap_ + 0.1 * gap.item()
        self.log_reg_ += self.budget_rate * np.sign(self.budget - self.gap_)
        self.log_reg_ = float(np.clip(self.log_reg_, -7.0, 3.0))
        penalty = augmentation_regularizer(self.module_)
        self.history.record_batch("aug_reg", penalty.item())
        return nll - float(np.exp(self.log_reg_)) * penalty


def run(trunk, seed, args):
    X, y = make_sinusoids(random_state=seed)
    X_test, y_test = make_sinusoids(random_state=100 + seed)
    cls, trunk_kwargs = TRUNKS[trunk]
    estimator, extra = AugNetClassifier, {}
    if args.budget is not None:
        estimator, extra = BudgetAugNet, {"budget": args.budget}
    elif args.capfree:
        estimator = CapFreeAugNet
    if args.magnitude_lr is not None:
        extra["magnitude_lr"] = args.magnitude_lr
    torch.manual_seed(seed)
    start = time.perf_counter()
    clf = estimator(
        cls,
        **trunk_kwargs,
        augmentation=sinusoid_augmentation(
            100.0, sampling=args.sampling, temperature=args.temperature
        ),
        reg=args.reg,
        n_copies=20,
        random_state=seed,
        max_epochs=args.epochs,
        lr=3e-3,
        batch_size=64,
        train_split=None,
        optimizer=torch.optim.Adam,
        iterator_train__drop_last=False,
        verbose=0,
        **extra,
    ).fit(X, y)
    policy = clf.policy_.set_index("transform")
    return {
        "trunk": trunk,
        "seed": seed,
        "sampling": args.sampling,
        "reg": args.reg,
        "magnitude_lr": args.magnitude_lr,
        "budget": args.budget,
        "capfree": args.capfree,
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trunks", default="mlp,conv", help="of " + ",".join(TRUNKS))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--sampling", default="mixture", choices=["mixture", "sampled"])
    parser.add_argument("--reg", type=float, default=0.5)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--magnitude-lr", type=float, default=None)
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--capfree", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for trunk in args.trunks.split(","):
        for seed in args.seeds.split(","):
            rows.append(run(trunk, int(seed), args))
            print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    main()
