"""Per-transform speed and memory: braindecode_augnet vs braindecode.

For every transform, times on the same batch

- forward + backward of ours, the backward giving the gradients with respect
  to ``X`` and to the learnable magnitude (or probability);
- forward + backward of ours with the magnitude (or probability) frozen, the
  gradient with respect to ``X`` only: the same work as braindecode's, whose
  ops pass no gradient to their magnitude;
- forward + backward of braindecode's transform of the same name at the same
  magnitude (gradient with respect to ``X``; reported as ``fails`` when its
  backward raises, and then only forward passes are compared);
- forward only (no autograd) of both;

and measures memory: on CUDA the peak allocated during forward + backward
(:func:`torch.cuda.max_memory_allocated`); on CPU the bytes autograd saves
for the backward pass (inputs and parameters left out), since CPU peak
memory cannot be attributed to one op reliably.

Temporal transforms run on a ``(64, 2, 3000)`` batch at 100 Hz; spatial ones
(channel dropout/shuffle/symmetry, sensor rotations) on ``(64, 20, 3000)``
with 20 channels of the 10-20 system. Targets: no transform slower than
braindecode's, sensor rotations at least 10 times faster.

Usage::

    python -m benchmarks.bench_transforms [--quick] [--device cuda]
"""

import statistics
from dataclasses import dataclass

import torch

try:
    import resource  # Unix only: the page faults of each timed call
except ImportError:
    resource = None

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.bench_transforms (repository root)")

from . import _common as C  # noqa: E402

NAME = "bench_transforms"
SFREQ = 100.0


@dataclass
class Spec:
    """How to build our transform and braindecode's at one magnitude."""

    name: str
    spatial: bool
    ours: object  # callable (magnitude, seed) -> DifferentiableTransform
    theirs: object  # callable (op_value, probability, seed) -> Transform


def _op_value(transform, magnitude):
    """Our magnitude mapped onto the op parameter (``None`` for involutions,
    whose magnitude is a probability)."""
    if transform.learns_probability:
        return None
    return float(transform.magnitude_to_op(magnitude))


def specs(ch_names):
    """The compared transforms (ours and braindecode's factory)."""
    import braindecode.augmentation as A

    from braindecode_augnet import transforms as T

    def rotation(axis):
        ours_cls = getattr(T, f"Sensors{axis}Rotation")
        theirs_cls = getattr(A, f"Sensors{axis}Rotation")
        return Spec(
            f"Sensors{axis}Rotation",
            True,
            lambda m, s: ours_cls(
                ordered_ch_names=ch_names, magnitude=m, random_state=s
            ),
            lambda v, p, s: theirs_cls(p, ch_names, max_degrees=v, random_state=s),
        )

    return [
        Spec(
            "FrequencyShift",
            False,
            lambda m, s: T.FrequencyShift(sfreq=SFREQ, magnitude=m, random_state=s),
            lambda v, p, s: A.FrequencyShift(
                p, sfreq=SFREQ, max_delta_freq=v, random_state=s
            ),
        ),
        Spec(
            "FTSurrogate",
            False,
            lambda m, s: T.FTSurrogate(magnitude=m, random_state=s),
            lambda v, p, s: A.FTSurrogate(p, phase_noise_magnitude=v, random_state=s),
        ),
        Spec(
            "GaussianNoise",
            False,
            lambda m, s: T.GaussianNoise(magnitude=m, random_state=s),
            lambda v, p, s: A.GaussianNoise(p, std=v, random_state=s),
        ),
        Spec(
            "SmoothTimeMask",
            False,
            lambda m, s: T.SmoothTimeMask(magnitude=m, random_state=s),
            lambda v, p, s: A.SmoothTimeMask(
                p, mask_len_samples=int(round(v)), random_state=s
            ),
        ),
        Spec(
            "AmplitudeScale",
            False,
            lambda m, s: T.AmplitudeScale(magnitude=m, random_state=s),
            lambda v, p, s: A.AmplitudeScale(
                p, interval=(2.0**-v, 2.0**v), random_state=s
            ),
        ),
        Spec(
            "TimeReverse",
            False,
            lambda m, s: T.TimeReverse(probability=m / 2, random_state=s),
            lambda v, p, s: A.TimeReverse(p, random_state=s),
        ),
        Spec(
            "SignFlip",
            False,
            lambda m, s: T.SignFlip(probability=m / 2, random_state=s),
            lambda v, p, s: A.SignFlip(p, random_state=s),
        ),
        Spec(
            "ChannelsDropout",
            True,
            lambda m, s: T.ChannelsDropout(magnitude=m, random_state=s),
            lambda v, p, s: A.ChannelsDropout(p, p_drop=v, random_state=s),
        ),
        Spec(
            "ChannelsShuffle",
            True,
            lambda m, s: T.ChannelsShuffle(magnitude=m, random_state=s),
            lambda v, p, s: A.ChannelsShuffle(p, p_shuffle=v, random_state=s),
        ),
        Spec(
            "ChannelsSymmetry",
            True,
            lambda m, s: T.ChannelsSymmetry(
                probability=m / 2, ordered_ch_names=ch_names, random_state=s
            ),
            lambda v, p, s: A.ChannelsSymmetry(p, ch_names, random_state=s),
        ),
        rotation("X"),
        rotation("Y"),
        rotation("Z"),
    ]


def _short_error(exc):
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return text[:160]


def bench_one(spec, args, device, shape, repeats, warmup):
    """Time and measure one transform, ours against braindecode's."""
    ours = spec.ours(args.magnitude, args.seed).to(device)
    value = _op_value(ours, args.magnitude)
    # transforms with a magnitude range are applied to every example (their
    # probability is fixed, 1 in AugNet); involutions learn their probability,
    # magnitude / 2.
    probability = float(ours.probability.detach()) if ours.learns_probability else 1.0
    theirs = spec.theirs(value, probability, args.seed).to(device)
    params = [p for p in ours.parameters() if p.requires_grad]

    generator = torch.Generator().manual_seed(args.seed)
    X0 = torch.randn(shape, generator=generator).to(device)
    X = X0.clone().requires_grad_(True)
    grad_out = torch.randn(shape, generator=generator).to(device)

    def ours_fb():
        out = ours(X)
        torch.autograd.grad(out, [X, *params], grad_out)

    def ours_layer_fb():
        # the path used inside AugmentationLayer: no input checks
        out = ours.augment(X)
        torch.autograd.grad(out, [X, *params], grad_out)

    def ours_frozen_fb():
        # the same work as braindecode's: no gradient to the magnitude
        for param in params:
            param.requires_grad_(False)
        try:
            out = ours.augment(X)
            torch.autograd.grad(out, [X], grad_out)
        finally:
            for param in params:
                param.requires_grad_(True)

    def theirs_fb():
        out = theirs(X)
        torch.autograd.grad(out, [X], grad_out)

    def ours_f():
        with torch.no_grad():
            ours(X0)

    def theirs_f():
        with torch.no_grad():
            theirs(X0)

    theirs_backward = "ok"
    try:
        theirs_fb()
    except Exception as exc:  # noqa: BLE001 - any failure is the result
        theirs_backward = f"fails ({_short_error(exc)})"
    ours_fb()  # must work: raises otherwise

    fns = {
        "ours_fb": ours_fb,
        "ours_layer_fb": ours_layer_fb,
        "ours_frozen_fb": ours_frozen_fb,
        "ours_f": ours_f,
        "theirs_f": theirs_f,
    }
    if theirs_backward == "ok":
        fns["theirs_fb"] = theirs_fb
    faults = {name: [] for name in fns}
    times = C.time_interleaved(
        {name: _counting_faults(fn, faults[name]) for name, fn in fns.items()},
        device,
        repeats,
        warmup,
        slow_s=1.0,
        **C.adaptive(args),
    )
    stats = {key: C.summarize(val) for key, val in times.items()}

    memory = {}
    if device.type == "cuda":
        memory["method"] = "torch.cuda.max_memory_allocated during forward+backward"
        memory["ours_bytes"] = C.cuda_peak_bytes(ours_fb, device)
        memory["theirs_bytes"] = C.cuda_peak_bytes(
            theirs_fb if theirs_backward == "ok" else theirs_f, device
        )
    else:
        memory["method"] = "bytes of autograd-saved tensors (inputs/params excluded)"
        with C.saved_tensors_meter(exclude=[X, *params]) as meter:
            ours(X)
        memory["ours_bytes"] = meter["bytes"]
        with C.saved_tensors_meter(exclude=[X]) as meter:
            theirs(X)
        memory["theirs_bytes"] = meter["bytes"]

    ops = {
        "ours_fb": C.count_aten_ops(ours_fb)["aten_ops"],
        "ours_layer_fb": C.count_aten_ops(ours_layer_fb)["aten_ops"],
        "theirs": C.count_aten_ops(theirs_fb if theirs_backward == "ok" else theirs_f)[
            "aten_ops"
        ],
    }

    med = {key: s["median_s"] for key, s in stats.items()}
    if theirs_backward == "ok":
        compared, ratio = "forward+backward", C.ratio(med["ours_fb"], med["theirs_fb"])
        ratio_min = C.ratio(stats["ours_fb"]["min_s"], stats["theirs_fb"]["min_s"])
    else:
        compared, ratio = "forward", C.ratio(med["ours_f"], med["theirs_f"])
        ratio_min = C.ratio(stats["ours_f"]["min_s"], stats["theirs_f"]["min_s"])
    return {
        "transform": spec.name,
        "shape": list(shape),
        "magnitude": args.magnitude,
        "op_value": value,
        "probability": probability,
        "theirs_backward": theirs_backward,
        "timings": stats,
        "compared": compared,
        "ratio_ours_over_theirs": ratio,
        "ratio_of_min_times": ratio_min,
        "forward_ratio": C.ratio(med["ours_f"], med["theirs_f"]),
        "layer_path_ratio": C.ratio(
            med["ours_layer_fb"], med.get("theirs_fb", med["theirs_f"])
        ),
        "same_work_ratio": C.ratio(
            med["ours_frozen_fb"], med.get("theirs_fb", med["theirs_f"])
        ),
        "memory": memory,
        "aten_ops": ops,
        "page_faults": {
            name: statistics.median(counts)
            if counts and counts[0] is not None
            else None
            for name, counts in faults.items()
        },
    }


def _minor_faults():
    """Minor page faults of this process so far (``None`` off Unix)."""
    if resource is None:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _counting_faults(fn, counts):
    """``fn``, recording the minor page faults of each call in ``counts``.

    On CPU a large tensor often lands on memory that the allocator has just
    got anew from the OS, and its first writes fault page by page (3,750
    faults, several milliseconds, for a 64 x 20 x 3000 float32 batch):
    which side of a comparison pays them follows the order of allocations,
    not the work, so the table shows them beside the times.
    """

    def run():
        before = _minor_faults()
        fn()
        counts.append(None if before is None else _minor_faults() - before)

    return run


def _fmt_faults(faults, theirs_fb):
    keys = ["ours_fb", "ours_layer_fb", "ours_frozen_fb"]
    keys.append("theirs_fb" if theirs_fb else "theirs_f")
    if any(faults.get(key) is None for key in keys):
        return "-"
    return "/".join(f"{faults[key]:.0f}" for key in keys)


def main(argv=None):
    """Run the benchmark; return the JSON payload's path."""
    parser = C.base_parser(__doc__.splitlines()[0])
    C.add_window_arguments(parser)
    parser.add_argument(
        "--magnitude", type=C.fraction, default=0.5, help="magnitude in [0, 1] (0.5)"
    )
    ch_names = C.TEN_TWENTY_20
    names = [spec.name for spec in specs(ch_names)]
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=names,
        metavar="NAME",
        help=f"transforms to run (default: all): {', '.join(names)}",
    )
    args = parser.parse_args(argv)
    if args.only is not None:  # the order of the runs, whatever the order given
        args.only = [name for name in names if name in args.only] or None
    C.prepare_output(parser, args, NAME, C.WINDOW_DEFAULTS)
    device = C.setup(args)
    repeats, warmup = C.repeats_and_warmup(args)
    batch = C.pick(args, *C.WINDOW_DEFAULTS["batch"], given=args.batch)
    n_times = C.pick(args, *C.WINDOW_DEFAULTS["n_times"], given=args.n_times)
    C.print_header("Transforms: braindecode_augnet vs braindecode", args, device)
    print(f"repeats={repeats} warmup={warmup} magnitude={args.magnitude}")

    results = []
    for spec in specs(ch_names):
        if args.only and spec.name not in args.only:
            continue
        shape = (batch, len(ch_names) if spec.spatial else 2, n_times)
        result = bench_one(spec, args, device, shape, repeats, warmup)
        results.append(result)
        r = result["timings"]
        print(
            f"  {spec.name:<17} ours {C.fmt_time(r['ours_fb']['median_s'])}"
            f" | braindecode "
            f"{C.fmt_time(r.get('theirs_fb', r['theirs_f'])['median_s'])}"
            f" -> {C.fmt_ratio(result['ratio_ours_over_theirs'])}",
            flush=True,
        )

    rows = []
    for res in results:
        t = res["timings"]
        theirs_fb = t["theirs_fb"]["median_s"] if "theirs_fb" in t else None
        rows.append(
            [
                res["transform"],
                "x".join(map(str, res["shape"])),
                "-" if res["op_value"] is None else f"{res['op_value']:g}",
                C.fmt_time(t["ours_fb"]["median_s"]),
                C.fmt_time(theirs_fb) if theirs_fb is not None else "fails",
                C.fmt_time(t["ours_layer_fb"]["median_s"]),
                C.fmt_time(t["ours_f"]["median_s"]),
                C.fmt_time(t["theirs_f"]["median_s"]),
                C.fmt_ratio(res["ratio_ours_over_theirs"]),
                C.fmt_ratio(res["layer_path_ratio"]),
                C.fmt_ratio(res["same_work_ratio"]),
                "fwd+bwd" if res["compared"] != "forward" else "fwd",
                C.fmt_bytes(res["memory"]["ours_bytes"]),
                C.fmt_bytes(res["memory"]["theirs_bytes"]),
                str(res["aten_ops"]["ours_layer_fb"]),
                str(res["aten_ops"]["theirs"]),
                _fmt_faults(res["page_faults"], theirs_fb is not None),
            ]
        )
    mem = "peak CUDA" if device.type == "cuda" else "autograd-saved"
    print()
    print(
        C.format_table(
            [
                "transform",
                "shape",
                "op value",
                "ours f+b",
                "bd f+b",
                "ours layer f+b",
                "ours fwd",
                "bd fwd",
                "ours/bd",
                "layer/bd",
                "frozen/bd",
                "compared",
                f"ours {mem}",
                f"bd {mem}",
                "ours layer ops",
                "bd ops",
                "page faults",
            ],
            rows,
        )
    )
    print(
        "(f+b: forward + backward w.r.t. X and, for ours, the magnitude; median "
        "times; ours/bd on f+b, or fwd when braindecode's backward fails; 'ours "
        "layer': sample_params + apply as in AugmentationLayer, without the "
        "input checks of forward; 'frozen': the layer path with the magnitude "
        "frozen, gradient w.r.t. X only, braindecode's work); ops: aten "
        "operators of one f+b (bd: of its f+b, or fwd when its backward fails); "
        "page faults: median minor faults per call, ours f+b / layer / frozen / "
        "bd (the CPU's cost of fresh memory, which follows the order of "
        "allocations: read the ratios of rows with many faults with care)"
    )
    failures = [r for r in results if r["theirs_backward"] != "ok"]
    for res in failures:
        print(f"braindecode {res['transform']} backward: {res['theirs_backward']}")

    targets = []
    for res in results:
        targets.append(
            C.target(
                f"{res['transform']}: ours/braindecode time",
                res["ratio_ours_over_theirs"],
                1.0,
            )
        )
        targets.append(
            C.target(
                f"{res['transform']}: same work (magnitude frozen)",
                res["same_work_ratio"],
                1.0,
            )
        )
        if res["transform"].startswith("Sensors"):
            speedup = res["ratio_ours_over_theirs"]
            targets.append(
                C.target(
                    f"{res['transform']}: speed-up at batch {batch}",
                    None if not speedup else 1 / speedup,
                    10.0,
                    ">=",
                )
            )
    targets = C.mode_targets(args, targets)
    print()
    print(C.format_targets(targets))
    settings = {
        "batch": batch,
        "n_times": n_times,
        "sfreq": SFREQ,
        "n_chans_temporal": 2,
        "ch_names_spatial": ch_names,
        "magnitude": args.magnitude,
        "repeats": repeats,
        "warmup": warmup,
        "timing": "median of interleaved repeats (time.perf_counter); cheap "
        "transforms get extra rounds (see _common.adaptive)",
        "compared": "ours: forward(X) (public, with input checks) and "
        "sample_params + apply (AugmentationLayer path); braindecode: forward(X)",
    }
    return C.write_results(NAME, args, device, settings, results, targets)


if __name__ == "__main__":
    C.restart_with_malloc_settings()
    main()
