"""Cost of AugNet over its bare trunk: training steps and inference.

Training: one optimisation step (zero_grad, forward, loss, backward, Adam
step) of AugNet with the paper's 3-layer EEG preset
(``eeg_augmentation(sfreq=100, ch_names=['Fpz-Cz', 'Pz-Oz'])``) around
``SleepStagerChambon2018`` on a batch of 64 windows of 2 x 3000 samples, with
the loss ``NLL - 0.5 * augmentation_regularizer``, against the same step of
the bare trunk with cross-entropy. Both sampling modes of the layers are
timed: ``'mixture'`` (target <= 2x the trunk) and ``'sampled'`` (target
<= 1.3x). The augmentation alone (forward + backward) is timed too, and the
bytes autograd saves for each step's backward are reported, and the number of
aten operators of each step (the CPU stand-in for kernel launches, see
``_common.count_aten_ops``) with the host reads among them.

Inference: ``AugNet(trunk, aug, n_copies=20)`` in evaluation mode on 64
windows against the bare trunk on the same 64 x 20 = 1280 rows (target
<= 1.2x), in windows per second, and the peak memory of AugNet unchunked
against ``copies_per_chunk=4``. On CUDA the peak is
:func:`torch.cuda.max_memory_allocated`; on CPU it is the growth of the peak
resident set size (``VmHWM``, reset through ``/proc/self/clear_refs`` where
Linux allows it, else ``ru_maxrss``) of a fresh subprocess per
configuration, measured after a warm-up on one window, with glibc's
allocator as users run it (the timings keep freed memory in the process:
``_common.MALLOC_SETTINGS``).

Sequence models: the same two ratios (training step with ``'mixture'``
layers, inference with ``n_copies``) for the sleep stagers that read
sequences of ``--n-windows`` windows and predict every window
(``--sequence-models``: ``TimeDistributedSleepStager`` and ``USleep``), on
``batch // n_windows``
sequences, i.e. about as many windows per step as the single-window rows.

Compilation (``--compile BACKEND``, e.g. ``inductor``): the training steps
of :func:`torch.compile`'d copies of the trunk and of both AugNets are timed
too, side by side with the eager ones, after a first step whose time (the
compilation, mostly) is reported apart; ``--compile-mode reduce-overhead``
(with inductor, on CUDA) replays them as CUDA graphs. The compiled AugNets
draw from torch's default generator (``random_state=None``), which keeps
their graphs whole.

Usage::

    python -m benchmarks.bench_training_step [--quick] [--device cuda] [--profile]
        [--sequence-models timedistributed usleep] [--n-windows 3]
        [--compile inductor [--compile-mode reduce-overhead]]
"""

import copy
import gc
import json
import os
import subprocess
import time

import torch
import torch.nn.functional as F

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.bench_training_step (repository root)")

from . import _common as C  # noqa: E402

NAME = "bench_training_step"
SFREQ = 100.0
N_CLASSES = 5
REG = 0.5
MEMORY_CONFIGS = ("trunk", "augnet_unchunked", "augnet_chunked")
SEQUENCE_MODELS = ("timedistributed", "usleep")


def build_trunk(n_chans, n_times, seed):
    """``SleepStagerChambon2018`` with a fixed initialisation."""
    from braindecode.models import SleepStagerChambon2018

    torch.manual_seed(seed)
    return SleepStagerChambon2018(
        n_chans=n_chans, sfreq=SFREQ, n_outputs=N_CLASSES, n_times=n_times
    )


def build_sequence_trunk(model, n_chans, n_times, seed):
    """A sequence sleep stager (per-window logits) with a fixed initialisation."""
    from braindecode.models import USleep

    from braindecode_augnet.study.stager import TimeDistributedSleepStager

    torch.manual_seed(seed)
    cls = TimeDistributedSleepStager if model == "timedistributed" else USleep
    return cls(n_chans=n_chans, sfreq=SFREQ, n_outputs=N_CLASSES, n_times=n_times)


def build_augnet(trunk, sampling, seed, ch_names=None, n_chans=None, **kwargs):
    """AugNet with the EEG preset around a copy of ``trunk``."""
    from braindecode_augnet import AugNet, eeg_augmentation

    aug = eeg_augmentation(
        sfreq=SFREQ,
        ch_names=ch_names,
        n_chans=n_chans,
        sampling=sampling,
        random_state=seed,
    )
    return AugNet(copy.deepcopy(trunk), aug, **kwargs)


def make_data(batch, n_chans, n_times, seed, device, n_windows=None):
    """A random batch and labels (sequences and per-window labels with
    ``n_windows``)."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch,) if n_windows is None else (batch, n_windows)
    X = torch.randn(*shape, n_chans, n_times, generator=generator)
    y = torch.randint(0, N_CLASSES, shape, generator=generator)
    return X.to(device), y.to(device)


def augnet_forward_backward(net, X, y, reg=REG):
    """Forward and backward of AugNet's loss (``NLL - reg * R``):
    :func:`~braindecode_augnet.regularization.augnet_loss`, the loss of
    ``AugNetClassifier.get_loss``."""
    from braindecode_augnet.regularization import augnet_loss

    net.train()

    def run():
        loss, _ = augnet_loss(F.nll_loss(net(X), y), net, reg)
        loss.backward()

    return run


def trunk_forward_backward(trunk, X, y):
    """Forward and backward of the bare trunk's cross-entropy."""
    trunk.train()

    def run():
        F.cross_entropy(trunk(X), y).backward()

    return run


def _step(module, forward_backward):
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad(set_to_none=True)
        forward_backward()
        optimizer.step()

    return step


def augnet_step(net, X, y, reg=REG):
    """A training-step closure for AugNet (``NLL - reg * R``, Adam)."""
    return _step(net, augnet_forward_backward(net, X, y, reg))


def trunk_step(trunk, X, y):
    """A training-step closure for the bare trunk (cross-entropy, Adam)."""
    return _step(trunk, trunk_forward_backward(trunk, X, y))


def _copies(trunk, nets):
    """Copies of the trunk and of each AugNet, named as in the results."""
    models = {"trunk": copy.deepcopy(trunk)}
    models.update({f"augnet_{m}": copy.deepcopy(net) for m, net in nets.items()})
    return models


def compiled_steps(trunk, nets, X, y, backend, device, mode=None):
    """Training steps of ``torch.compile``'d copies of the trunk and the
    AugNets (``mode``, e.g. ``"reduce-overhead"``: CUDA graphs), each run
    once (compiling it) and the seconds that took."""
    steps, first_s = {}, {}
    options = {"backend": backend, **({} if mode is None else {"mode": mode})}
    for name, model in _copies(trunk, nets).items():
        compiled = torch.compile(model, **options)
        step = (trunk_step if name == "trunk" else augnet_step)(compiled, X, y)
        start = time.perf_counter()
        step()
        C.synchronize(device)
        first_s[name] = time.perf_counter() - start
        print(f"  compiled {name}: first step {first_s[name]:.1f} s", flush=True)
        steps[f"{name}_compiled"] = step
    return steps, first_s


def count_ops(nets, bare, X, y, profiler=True):
    """Aten operators of one training step, and of its forward + backward.

    Counted on copies, so that the timed models' state is left alone. With
    ``profiler``, the forward + backward is also counted as torch.profiler
    events (see ``_common.count_aten_ops``).
    """
    counts = {}
    for name, model in _copies(bare, nets).items():
        if name == "trunk":
            fb = trunk_forward_backward(model, X, y)
        else:
            fb = augnet_forward_backward(model, X, y)
        counts[name] = {
            "step": C.count_aten_ops(_step(model, fb)),
            "forward_backward": C.count_aten_ops(fb, profiler=profiler),
        }
    return counts


def augmentation_only(net, X):
    """Forward + backward of the augmentation layers alone (train mode)."""
    aug = net.augmentation.train()
    params = [p for p in aug.parameters() if p.requires_grad]
    X = X.clone().requires_grad_(True)

    def run():
        out = aug.augment(X)
        torch.autograd.grad(out.sum(), [X, *params], allow_unused=True)

    return run


def saved_bytes(fn_forward, exclude):
    """Bytes autograd saves during ``fn_forward`` (see saved_tensors_meter)."""
    with C.saved_tensors_meter(exclude=exclude) as meter:
        out = fn_forward()
    del out
    return meter["bytes"]


# ------------------------------------------------------------------ memory
def _current_rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (Linux); True when it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _vm_hwm():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def memory_worker(config, args):
    """Peak memory of one inference configuration, in this fresh process.

    Prints one JSON line with the peak growth in bytes and the method.
    """
    device = C.setup(args)
    X, _ = make_data(args.batch, 2, args.n_times, args.seed, device)
    trunk = build_trunk(2, args.n_times, args.seed).to(device).eval()
    if config == "trunk":
        rows = X.repeat(args.n_copies, 1, 1)
        model, inputs = trunk, rows
    else:
        chunk = args.chunk if config == "augnet_chunked" else None
        model = build_augnet(
            trunk,
            "mixture",
            args.seed,
            ch_names=C.SLEEP_CHANNELS,
            n_copies=args.n_copies,
            copies_per_chunk=chunk,
        )
        model = model.to(device).eval()
        inputs = X
    with torch.inference_mode():
        model(inputs[:1])  # warm-up: kernels, thread pools, allocator
    gc.collect()
    if device.type == "cuda":
        with torch.inference_mode():
            peak = C.cuda_peak_bytes(lambda: model(inputs), device)
        method = "torch.cuda.max_memory_allocated"
    else:
        reset = _reset_peak_rss() and _vm_hwm() is not None
        before = _current_rss() if reset else C.max_rss_bytes()
        with torch.inference_mode():
            model(inputs)
        after = _vm_hwm() if reset else C.max_rss_bytes()
        peak = after - before
        method = (
            "peak RSS growth (VmHWM reset via /proc/self/clear_refs)"
            if reset
            else "ru_maxrss growth (resource.getrusage)"
        )
    print(json.dumps({"config": config, "peak_bytes": peak, "method": method}))


def measure_memory(args, device):
    """Peak memory of the inference configurations (one subprocess each)."""
    results = {}
    for config in MEMORY_CONFIGS:
        command = C.module_command(
            NAME,
            *("--_memory-worker", config, "--device", device),
            *("--threads", torch.get_num_threads(), "--seed", args.seed),
            *("--batch", args.batch, "--n-times", args.n_times),
            *("--n-copies", args.n_copies, "--chunk", args.chunk),
            "--system-malloc",
        )
        proc = subprocess.run(
            command,
            cwd=C.ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=C.system_malloc_env(),  # peak memory as users' runs have it
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            results[config] = {
                "peak_bytes": None,
                "error": (proc.stderr or proc.stdout).strip()[-500:],
            }
        else:
            results[config] = json.loads(lines[-1])
    return results


# --------------------------------------------------------- sequence models
def measure_sequence_models(args, device, repeats, warmup, infer_repeats):
    """Training-step and inference ratios of AugNet around sequence trunks.

    Returns ``{model: {"training": ..., "inference": ..., "ratios": ...}}``.
    """
    n_seq = max(1, args.batch // args.n_windows)
    X, y = make_data(n_seq, 2, args.n_times, args.seed, device, args.n_windows)
    out = {}
    for model in args.sequence_models:
        trunk = build_sequence_trunk(model, 2, args.n_times, args.seed).to(device)
        net = build_augnet(
            trunk,
            "mixture",
            args.seed,
            ch_names=C.SLEEP_CHANNELS,
            n_copies=args.n_copies,
        ).to(device)
        bare = copy.deepcopy(trunk)
        times = C.time_interleaved(
            {"trunk": trunk_step(bare, X, y), "augnet_mixture": augnet_step(net, X, y)},
            device,
            repeats,
            warmup,
            **C.adaptive(args),
        )
        train = {name: C.summarize(t) for name, t in times.items()}
        eval_trunk, eval_net = copy.deepcopy(trunk).eval(), net.eval()
        rows_X = X.repeat(args.n_copies, 1, 1, 1)

        def infer_trunk(trunk=eval_trunk, rows=rows_X):
            with torch.inference_mode():
                trunk(rows)

        def infer_augnet(net=eval_net):
            with torch.inference_mode():
                net(X)

        times = C.time_interleaved(
            {"trunk": infer_trunk, "augnet": infer_augnet},
            device,
            infer_repeats,
            warmup,
        )
        infer = {name: C.summarize(t) for name, t in times.items()}
        out[model] = {
            "training": train,
            "inference": infer,
            "ratios": {
                "training_step_mixture_over_trunk": C.ratio(
                    train["augnet_mixture"]["median_s"], train["trunk"]["median_s"]
                ),
                "inference_over_trunk_same_rows": C.ratio(
                    infer["augnet"]["median_s"], infer["trunk"]["median_s"]
                ),
            },
        }
    return out


def print_sequence_models(results, single, args):
    """Table of the sequence models' ratios next to the single-window ones."""
    n_seq = max(1, args.batch // args.n_windows)
    rows = [
        [
            "SleepStagerChambon2018 (windows)",
            C.fmt_time(single["train_trunk"]),
            C.fmt_ratio(single["train_ratio"]),
            C.fmt_ratio(single["infer_ratio"]),
        ]
    ]
    for model, res in results.items():
        rows.append(
            [
                f"{model} ({n_seq} x {args.n_windows} windows)",
                C.fmt_time(res["training"]["trunk"]["median_s"]),
                C.fmt_ratio(res["ratios"]["training_step_mixture_over_trunk"]),
                C.fmt_ratio(res["ratios"]["inference_over_trunk_same_rows"]),
            ]
        )
    print(f"\nSequence models (AugNet 'mixture', n_copies={args.n_copies}):")
    print(
        C.format_table(
            ["trunk", "trunk step", "train step / trunk", "inference / trunk"],
            rows,
        )
    )


# ------------------------------------------------------------------ profile
def profile_steps(steps, device, row_limit=12):
    """Top operators by self time of one call of each step (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    sort_key = (
        "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    )
    tables = {}
    for name, step in steps.items():
        step()
        with profile(activities=activities) as prof:
            step()
            C.synchronize(device)
        averages = prof.key_averages()
        print(f"\n-- profile: {name} --")
        print(averages.table(sort_by=sort_key, row_limit=row_limit))
        total = sum(e.self_cpu_time_total for e in averages) or 1
        top = sorted(averages, key=lambda e: e.self_cpu_time_total, reverse=True)
        tables[name] = [
            {
                "op": e.key,
                "self_cpu_ms": e.self_cpu_time_total / 1e3,
                "share": e.self_cpu_time_total / total,
                "calls": e.count,
            }
            for e in top[:row_limit]
        ]
    return tables


# -------------------------------------------------------------------- main
def print_compiled(train, first_s, backend):
    """Compiled against eager steps, and against the compiled trunk."""
    rows = []
    for name in first_s:
        compiled = train[f"{name}_compiled"]["median_s"]
        rows.append(
            [
                name,
                f"{first_s[name]:.1f} s",
                C.fmt_time(train[name]["median_s"]),
                C.fmt_time(compiled),
                C.fmt_ratio(C.ratio(compiled, train[name]["median_s"])),
                C.fmt_ratio(C.ratio(compiled, train["trunk_compiled"]["median_s"])),
            ]
        )
    print(f"\nCompiled training steps (torch.compile, backend={backend!r}):")
    print(
        C.format_table(
            [
                "model",
                "first step",
                "eager",
                "compiled",
                "compiled / eager",
                "/ compiled trunk",
            ],
            rows,
        )
    )


def main(argv=None):
    """Run the benchmark; return the JSON payload's path."""
    parser = C.base_parser(__doc__.splitlines()[0])
    C.add_window_arguments(parser)
    parser.add_argument(
        "--n-copies", type=C.positive_int, default=None, help="copies at inference (20)"
    )
    parser.add_argument(
        "--chunk",
        type=C.positive_int,
        default=None,
        help="copies_per_chunk compared (4)",
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the inference memory runs"
    )
    parser.add_argument(
        "--sequence-models",
        nargs="*",
        choices=SEQUENCE_MODELS,
        default=list(SEQUENCE_MODELS),
        help="sequence trunks timed too (default: all; none to skip)",
    )
    parser.add_argument(
        "--n-windows", type=C.positive_int, default=3, help="windows per sequence (3)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print torch.profiler tables"
    )
    parser.add_argument(
        "--compile",
        default=None,
        metavar="BACKEND",
        help="also time torch.compile'd copies of the trunk and AugNets with "
        "this backend (e.g. inductor; default: none)",
    )
    parser.add_argument(
        "--compile-mode",
        default=None,
        metavar="MODE",
        help="torch.compile's mode with --compile inductor (e.g. reduce-overhead: "
        "CUDA graphs)",
    )
    parser.add_argument("--_memory-worker", dest="memory_worker", default=None)
    args = parser.parse_args(argv)
    args.batch = C.pick(args, *C.WINDOW_DEFAULTS["batch"], given=args.batch)
    args.n_times = C.pick(args, *C.WINDOW_DEFAULTS["n_times"], given=args.n_times)
    args.n_copies = C.pick(args, 20, 20, 4, given=args.n_copies)
    args.chunk = C.pick(args, 4, 4, 2, given=args.chunk)
    if args.memory_worker:
        return memory_worker(args.memory_worker, args)

    C.prepare_output(parser, args, NAME)
    device = C.setup(args)
    # training steps are cheap next to inference with 20 copies: more repeats
    repeats, warmup = C.repeats_and_warmup(args, quick=(5, 1))
    infer_repeats = repeats if args.repeats else C.pick(args, repeats, 3, 1)
    C.print_header("AugNet training step and inference vs bare trunk", args, device)
    print(
        f"repeats={repeats} (inference {infer_repeats}) warmup={warmup} "
        f"batch={args.batch} "
        f"n_times={args.n_times} n_copies={args.n_copies} chunk={args.chunk}"
    )
    X, y = make_data(args.batch, 2, args.n_times, args.seed, device)
    trunk = build_trunk(2, args.n_times, args.seed).to(device)
    nets = {
        mode: build_augnet(
            trunk, mode, args.seed, ch_names=C.SLEEP_CHANNELS, n_copies=args.n_copies
        ).to(device)
        for mode in ("mixture", "sampled")
    }
    bare = copy.deepcopy(trunk)

    # ---------------------------------------------------------- training
    steps = {"trunk": trunk_step(bare, X, y)}
    steps.update({f"augnet_{m}": augnet_step(net, X, y) for m, net in nets.items()})
    fns = dict(steps)
    fns.update({f"aug_only_{m}": augmentation_only(n, X) for m, n in nets.items()})
    compile_first_s = None
    if args.compile:
        print(f"torch.compile(backend={args.compile!r}, mode={args.compile_mode!r}):")
        # unseeded draws (torch's default generator): a seeded generator
        # breaks the graph (see AugNet under torch.compile in the README)
        unseeded = {
            mode: build_augnet(
                trunk, mode, None, ch_names=C.SLEEP_CHANNELS, n_copies=args.n_copies
            ).to(device)
            for mode in nets
        }
        compiled, compile_first_s = compiled_steps(
            trunk, unseeded, X, y, args.compile, device, args.compile_mode
        )
        fns.update(compiled)
    times = C.time_interleaved(fns, device, repeats, warmup, **C.adaptive(args))
    train = {name: C.summarize(t) for name, t in times.items()}
    saved = {
        "trunk": saved_bytes(lambda: bare.train()(X), exclude=list(bare.parameters()))
    }
    for mode, net in nets.items():
        saved[f"augnet_{mode}"] = saved_bytes(
            lambda net=net: net.train()(X), exclude=list(net.parameters())
        )
    base = train["trunk"]["median_s"]
    rows = []
    for name in fns:
        rows.append(
            [
                name,
                C.fmt_time(train[name]["median_s"]),
                C.fmt_time(train[name]["min_s"]),
                C.fmt_ratio(C.ratio(train[name]["median_s"], base)),
                C.fmt_bytes(saved.get(name)) if name in saved else "-",
            ]
        )
    print(f"\nTraining step (batch of {args.batch} x 2 x {args.n_times}):")
    print(
        C.format_table(
            ["step", "median", "min", "/ trunk step", "autograd-saved"], rows
        )
    )
    print("(aug_only_*: the augmentation layers' forward + backward alone)")
    if args.compile:
        print_compiled(train, compile_first_s, args.compile)

    ops = count_ops(nets, bare, X, y, profiler=not args.smoke)
    base_ops = ops["trunk"]["step"]["aten_ops"]
    rows = [
        [
            name,
            str(count["step"]["aten_ops"]),
            C.fmt_ratio(C.ratio(count["step"]["aten_ops"], base_ops)),
            str(count["forward_backward"]["aten_ops"]),
            str(count["forward_backward"]["kernels"]),
            str(count["forward_backward"].get("profiler_aten_events", "-")),
            str(count["step"]["host_reads"]),
            str(count["forward_backward"]["host_reads"]),
        ]
        for name, count in ops.items()
    ]
    print("\nAten operators per training step:")
    print(
        C.format_table(
            [
                "step",
                "ops",
                "/ trunk",
                "fwd+bwd ops",
                "fwd+bwd kernels",
                "fwd+bwd profiler",
                "host reads",
                "fwd+bwd reads",
            ],
            rows,
        )
    )
    print(
        "(ops: operators as dispatched, one each; step: zero_grad, forward, "
        "loss, backward, Adam; fwd+bwd: forward, loss and backward, without the "
        "optimizer, whose CPU for-loop over parameters is a per-device choice "
        "of torch; kernels: the ops that are neither views nor allocations, "
        "the closest to launches on an accelerator; "
        "profiler: aten:: events of torch.profiler, nested calls "
        "included, the count of issue 10; host reads: item() calls, each a "
        "synchronisation on an accelerator)"
    )

    # --------------------------------------------------------- inference
    n_rows = args.batch * args.n_copies
    rows_X = X.repeat(args.n_copies, 1, 1)
    eval_trunk = copy.deepcopy(trunk).eval()
    infer_net = nets["mixture"].eval()
    chunked_net = copy.deepcopy(infer_net)
    chunked_net.copies_per_chunk = args.chunk

    def no_grad(fn, *inputs):
        def run():
            with torch.inference_mode():
                fn(*inputs)

        return run

    infer_fns = {
        "trunk": no_grad(eval_trunk, rows_X),
        "augnet": no_grad(infer_net, X),
        "augnet_chunked": no_grad(chunked_net, X),
    }
    times = C.time_interleaved(infer_fns, device, infer_repeats, warmup)
    infer = {name: C.summarize(t) for name, t in times.items()}
    for stats in infer.values():
        stats["rows_per_s"] = n_rows / stats["median_s"]
        stats["windows_per_s"] = args.batch / stats["median_s"]

    memory = {"skipped": True}
    if not (args.no_memory or args.smoke):
        memory = measure_memory(args, device)
    base = infer["trunk"]["median_s"]
    rows = []
    labels = {
        "trunk": f"bare trunk on {n_rows} rows",
        "augnet": f"AugNet n_copies={args.n_copies}",
        "augnet_chunked": f"AugNet copies_per_chunk={args.chunk}",
    }
    mem_key = {
        "trunk": "trunk",
        "augnet": "augnet_unchunked",
        "augnet_chunked": "augnet_chunked",
    }
    for name, stats in infer.items():
        peak = memory.get(mem_key[name], {}).get("peak_bytes")
        rows.append(
            [
                labels[name],
                C.fmt_time(stats["median_s"]),
                f"{stats['rows_per_s']:.0f}",
                f"{stats['windows_per_s']:.1f}",
                C.fmt_ratio(C.ratio(stats["median_s"], base)),
                C.fmt_bytes(peak) if not memory.get("skipped") else "skipped",
            ]
        )
    print(f"\nInference ({args.batch} windows x {args.n_copies} copies):")
    print(
        C.format_table(
            ["model", "median", "rows/s", "windows/s", "/ trunk", "peak memory"],
            rows,
        )
    )
    if not memory.get("skipped"):
        methods = {m.get("method") for m in memory.values() if m.get("method")}
        print(f"(peak memory: {'; '.join(sorted(methods)) or 'failed'})")
        for config, m in memory.items():
            if m.get("error"):
                print(f"memory run {config} failed: {m['error']}")

    sequence_models = measure_sequence_models(
        args, device, repeats, warmup, infer_repeats
    )
    if sequence_models:
        print_sequence_models(
            sequence_models,
            {
                "train_trunk": train["trunk"]["median_s"],
                "train_ratio": C.ratio(
                    train["augnet_mixture"]["median_s"], train["trunk"]["median_s"]
                ),
                "infer_ratio": C.ratio(
                    infer["augnet"]["median_s"], infer["trunk"]["median_s"]
                ),
            },
            args,
        )

    profiles = None
    if args.profile:
        profiles = profile_steps(
            {
                "augnet_mixture": steps["augnet_mixture"],
                "augnet_sampled": steps["augnet_sampled"],
                "aug_only_mixture": fns["aug_only_mixture"],
                "augnet_inference": infer_fns["augnet"],
            },
            device,
        )

    trunk_t = train["trunk"]["median_s"]
    targets = [
        C.target(
            "training step mixture / trunk",
            C.ratio(train["augnet_mixture"]["median_s"], trunk_t),
            2.0,
        ),
        C.target(
            "training step sampled / trunk",
            C.ratio(train["augnet_sampled"]["median_s"], trunk_t),
            1.3,
        ),
        C.target(
            f"inference n_copies={args.n_copies} / trunk on same rows",
            C.ratio(infer["augnet"]["median_s"], infer["trunk"]["median_s"]),
            1.2,
        ),
    ]
    targets = C.mode_targets(args, targets)
    print()
    print(C.format_targets(targets))
    settings = {
        "batch": args.batch,
        "n_times": args.n_times,
        "n_chans": 2,
        "ch_names": C.SLEEP_CHANNELS,
        "sfreq": SFREQ,
        "trunk": "SleepStagerChambon2018",
        "augmentation": "eeg_augmentation (3 layers)",
        "loss": f"NLL - {REG} * augmentation_regularizer; trunk: cross-entropy",
        "optimizer": "Adam(lr=1e-3)",
        "n_copies": args.n_copies,
        "copies_per_chunk": args.chunk,
        "sequence_models": list(args.sequence_models),
        "n_windows": args.n_windows,
        "sequences_per_batch": max(1, args.batch // args.n_windows),
        "repeats": repeats,
        "inference_repeats": infer_repeats,
        "warmup": warmup,
        "timing": "median of interleaved repeats (time.perf_counter)",
    }
    results = {
        "training": train,
        "training_autograd_saved_bytes": saved,
        "training_aten_ops": ops,
        "inference": infer,
        "inference_memory": memory,
        "sequence_models": sequence_models,
        "profiles": profiles,
        "compile": None
        if not args.compile
        else {
            "backend": args.compile,
            "mode": args.compile_mode,
            "first_step_s": compile_first_s,
        },
    }
    return C.write_results(NAME, args, device, settings, results, targets)


if __name__ == "__main__":
    C.restart_with_malloc_settings()
    main()
