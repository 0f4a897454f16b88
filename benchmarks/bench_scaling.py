"""How the cost of an AugNet training step grows with the problem size.

Starting from a base configuration (2 channels, 3000 samples at 100 Hz, one
copy per example in training), one size grows at a time: the batch size, the
window length, the number of channels and ``n_copies_train``. Each point
times an AugNet training step (EEG preset, ``SleepStagerChambon2018`` trunk,
``NLL - 0.5 * augmentation_regularizer``, Adam) and the bare trunk's step on
the same number of rows (batch x copies), and measures memory: the peak
allocated on CUDA, the bytes autograd saves for the backward pass on CPU.
For each axis a least-squares line gives the slope (seconds per unit) and
its R^2, and a log-log fit the exponent (1 = linear growth).

Usage::

    python -m benchmarks.bench_scaling [--quick] [--device cuda] [--sampling sampled]
"""

import copy

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.bench_scaling (repository root)")

from . import _common as C  # noqa: E402
from .bench_training_step import (  # noqa: E402
    augnet_step,
    build_augnet,
    build_trunk,
    make_data,
    trunk_step,
)

NAME = "bench_scaling"

AXES = {
    # axis: (full values, quick values, smoke values)
    "batch": ([16, 32, 64, 128, 256], [16, 32, 64], [2, 4]),
    "n_times": ([750, 1500, 3000, 6000, 12000], [750, 1500, 3000], [300, 600]),
    "n_chans": ([2, 4, 8, 16, 32], [2, 4, 8], [2, 4]),
    "n_copies": ([1, 2, 4, 8], [1, 2, 4], [1, 2]),
}


def bench_point(config, args, device, repeats, warmup):
    """Time and measure one configuration (AugNet and bare-trunk steps)."""
    batch, n_times = config["batch"], config["n_times"]
    n_chans, n_copies = config["n_chans"], config["n_copies"]
    X, y = make_data(batch, n_chans, n_times, args.seed, device)
    trunk = build_trunk(n_chans, n_times, args.seed).to(device)
    net = build_augnet(
        trunk, args.sampling, args.seed, n_chans=n_chans, n_copies_train=n_copies
    ).to(device)
    bare = copy.deepcopy(trunk)
    X_rows, y_rows = X.repeat(n_copies, 1, 1), y.repeat(n_copies)
    fns = {"augnet": augnet_step(net, X, y), "trunk": trunk_step(bare, X_rows, y_rows)}
    times = C.time_interleaved(fns, device, repeats, warmup, **C.adaptive(args))
    stats = {name: C.summarize(t) for name, t in times.items()}
    if device.type == "cuda":
        memory = {
            "method": "torch.cuda.max_memory_allocated during the step",
            "augnet_bytes": C.cuda_peak_bytes(fns["augnet"], device),
            "trunk_bytes": C.cuda_peak_bytes(fns["trunk"], device),
        }
    else:
        memory = {"method": "bytes of autograd-saved tensors (params excluded)"}
        for name, model, inputs in (("augnet", net, X), ("trunk", bare, X_rows)):
            with C.saved_tensors_meter(exclude=list(model.parameters())) as meter:
                out = model.train()(inputs)
            del out
            memory[f"{name}_bytes"] = meter["bytes"]
    return {
        **config,
        "timings": stats,
        "ratio_augnet_over_trunk": C.ratio(
            stats["augnet"]["median_s"], stats["trunk"]["median_s"]
        ),
        "memory": memory,
    }


def main(argv=None):
    """Run the benchmark; return the JSON payload's path."""
    parser = C.base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--sampling",
        default="mixture",
        choices=("mixture", "sampled"),
        help="training mode of the augmentation layers (mixture)",
    )
    parser.add_argument(
        "--axes",
        nargs="+",
        default=list(AXES),
        choices=list(AXES),
        metavar="AXIS",
        help=f"axes to scan, of {', '.join(AXES)} (default: all)",
    )
    args = parser.parse_args(argv)
    C.prepare_output(parser, args, NAME)
    device = C.setup(args)
    repeats, warmup = C.repeats_and_warmup(args, full=(5, 1))
    base = {
        "batch": C.pick(args, 32, 16, 2),
        "n_times": C.pick(args, 3000, 3000, 300),
        "n_chans": 2,
        "n_copies": 1,
    }
    C.print_header("AugNet training-step scaling", args, device)
    print(f"repeats={repeats} warmup={warmup} sampling={args.sampling} base={base}")

    results, fits = {}, {}
    mem_label = "peak CUDA" if device.type == "cuda" else "autograd-saved"
    for axis in args.axes:
        values = C.pick(args, *AXES[axis])
        points = []
        for value in values:
            config = {**base, axis: value}
            point = bench_point(config, args, device, repeats, warmup)
            points.append(point)
            print(
                f"  {axis}={value}: augnet "
                f"{C.fmt_time(point['timings']['augnet']['median_s'])}",
                flush=True,
            )
        augnet_t = [p["timings"]["augnet"]["median_s"] for p in points]
        trunk_t = [p["timings"]["trunk"]["median_s"] for p in points]
        augnet_m = [p["memory"]["augnet_bytes"] for p in points]
        fits[axis] = {
            "augnet_time": C.linear_fit(values, augnet_t),
            "trunk_time": C.linear_fit(values, trunk_t),
            "augnet_memory": C.linear_fit(values, augnet_m),
        }
        results[axis] = points
        rows = [
            [
                value,
                C.fmt_time(p["timings"]["augnet"]["median_s"]),
                C.fmt_time(p["timings"]["trunk"]["median_s"]),
                C.fmt_ratio(p["ratio_augnet_over_trunk"]),
                C.fmt_bytes(p["memory"]["augnet_bytes"]),
                C.fmt_bytes(p["memory"]["trunk_bytes"]),
            ]
            for value, p in zip(values, points)
        ]
        print(f"\nScaling with {axis} (others at base):")
        print(
            C.format_table(
                [
                    axis,
                    "augnet step",
                    "trunk step",
                    "ratio",
                    f"augnet {mem_label}",
                    f"trunk {mem_label}",
                ],
                rows,
            )
        )

    def fmt_fit(fit, unit):
        if fit["slope"] is None:
            return ["n/a"] * 3
        exponent = fit["loglog_slope"]
        return [
            f"{fit['slope'] * unit:.3g}",
            f"{fit['r2']:.3f}",
            "n/a" if exponent is None else f"{exponent:.2f}",
        ]

    rows = []
    for axis, fit in fits.items():
        rows.append(
            [axis]
            + fmt_fit(fit["augnet_time"], 1e3)
            + fmt_fit(fit["trunk_time"], 1e3)[::2]
            + fmt_fit(fit["augnet_memory"], 2**-20)[::2]
        )
    print("\nFits (slope per unit of the axis; exponent of a log-log fit, 1=linear):")
    print(
        C.format_table(
            [
                "axis",
                "augnet ms/unit",
                "R^2",
                "exponent",
                "trunk ms/unit",
                "trunk exponent",
                "augnet MiB/unit",
                "memory exponent",
            ],
            rows,
        )
    )
    settings = {
        "base": base,
        "axes": {axis: C.pick(args, *AXES[axis]) for axis in args.axes},
        "sampling": args.sampling,
        "sfreq": 100.0,
        "trunk": "SleepStagerChambon2018",
        "augmentation": "eeg_augmentation(n_chans=...) (3 layers)",
        "repeats": repeats,
        "warmup": warmup,
        "timing": "median of interleaved repeats (time.perf_counter)",
    }
    payload = {"points": results, "fits": fits}
    return C.write_results(NAME, args, device, settings, payload)


if __name__ == "__main__":
    C.restart_with_malloc_settings()
    main()
