"""Helpers shared by the benchmark scripts.

Command-line options, device and thread set-up, timing (warm-up runs, then the
median of repeated :func:`time.perf_counter` measurements, with device
synchronisation), memory measurements, machine and version information,
tables and JSON output into ``benchmarks/results/`` (git-ignored).
"""

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

#: 20 channels of the 10-20 system, with left/right pairs (spatial benchmarks).
TEN_TWENTY_20 = [
    "Fp1",
    "Fp2",
    "F7",
    "F3",
    "Fz",
    "F4",
    "F8",
    "T7",
    "C3",
    "Cz",
    "C4",
    "T8",
    "P7",
    "P3",
    "Pz",
    "P4",
    "P8",
    "O1",
    "Oz",
    "O2",
]

#: The two Sleep Physionet channels.
SLEEP_CHANNELS = ["Fpz-Cz", "Pz-Oz"]


def quiet_warnings():
    """Silence warnings that do not concern the measurements (MNE montages)."""
    warnings.filterwarnings("ignore", message="Montage name 'standard_1020'")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="braindecode")


# ---------------------------------------------------------------- allocator
#: glibc's settings (read when a process starts) under which the CPU memory
#: that tensors free stays with the process, as a caching allocator (CUDA's)
#: keeps it: blocks up to 256 MiB from the heap, which is never trimmed. By
#: default glibc hands freed blocks of megabytes back to the OS, and the next
#: tensor of that size pays a page fault per 4 KiB page (3,750 for 15 MB,
#: several ms); which side of a side-by-side comparison pays them follows the
#: order of the allocations, not the work (ratios of 15 MB batches moved by
#: up to 2x in runs of bench_transforms.py).
MALLOC_SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": str(256 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 40),
}


def restart_with_malloc_settings(argv=None):
    """Run the script again with :data:`MALLOC_SETTINGS` in its environment.

    For a script run from the command line (call it before ``main``): glibc
    reads these at start, so they cannot be set from a running process. The
    interpreter's own options are kept (``sys.orig_argv``). Nothing happens
    off glibc, where the settings are set already (values of the user's
    own are kept), after one restart, in an interactive session, or with
    ``--system-malloc`` (which the scripts' parsers accept, to time with the
    allocator as it is).

    Parameters
    ----------
    argv : list of str | None
        The command to run again, interpreter options and script included;
        ``None``: this process's (``sys.orig_argv`` without the executable).
    """
    if argv is None:
        argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv])[1:])
    if (
        platform.libc_ver()[0] != "glibc"
        or any(a.startswith("--sy") and "--system-malloc".startswith(a) for a in argv)
        or all(os.environ.get(name) for name in MALLOC_SETTINGS)
        or os.environ.get(_RESTARTED)
        or sys.flags.interactive
        or "IPython" in sys.modules
    ):
        return
    env = {**MALLOC_SETTINGS, **os.environ, _RESTARTED: "1"}
    os.execve(sys.executable, [sys.executable, *argv], env)


_RESTARTED = "BRAINDECODE_AUGNET_MALLOC_RESTARTED"


def system_malloc_env():
    """This process's environment without :data:`MALLOC_SETTINGS`: for
    subprocesses that measure memory (peak resident memory is glibc's as
    users run it, not that of memory kept for timing)."""
    return {k: v for k, v in os.environ.items() if k not in MALLOC_SETTINGS}


def malloc_settings():
    """The glibc allocator settings of this process (``None`` where unset)."""
    return {name: os.environ.get(name) for name in MALLOC_SETTINGS}


def memory_kept():
    """Whether this process runs glibc with :data:`MALLOC_SETTINGS`."""
    return platform.libc_ver()[0] == "glibc" and malloc_settings() == MALLOC_SETTINGS


# ----------------------------------------------------------------- arguments
# argparse ``type=`` helpers: a bad value is an argparse error (exit 2, the
# option named) before any work, never a default put in its place.
def _number(kind, text):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_int(text):
    """An integer >= 1 (a count or a size)."""
    value = _number(int, text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def nonnegative_int(text):
    """An integer >= 0 (warm-up runs, seeds)."""
    value = _number(int, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def positive_float(text):
    """A finite number > 0 (learning rates, hours)."""
    value = _number(float, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {value:g}")
    return value


def fraction(text):
    """A number in [0, 1] (magnitudes, weights)."""
    value = _number(float, text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {value:g}")
    return value


#: Devices the benchmarks run on (``cuda:N`` picks a GPU).
DEVICES = ("cpu", "cuda")


def device_name(text):
    """``cpu``, ``cuda`` or ``cuda:N``; CUDA only where it is available."""
    kind, _, index = text.partition(":")
    if kind not in DEVICES or (index and (kind != "cuda" or not index.isdigit())):
        raise argparse.ArgumentTypeError(
            f"unknown device {text!r}: choose from cpu, cuda, cuda:N"
        )
    if kind == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(
            f"{text!r} asked for, but CUDA is not available on this machine"
        )
    return text


def base_parser(description):
    """An argument parser with the options shared by every benchmark.

    Parameters
    ----------
    description : str
        Description shown by ``--help``.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(description=description, epilog=RESULTS_RULE)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick", action="store_true", help="fewer repeats and sizes (minutes)"
    )
    mode.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes and one repeat, to check that the script runs (tests); "
        "its targets are not evaluated",
    )
    parser.add_argument(
        "--device",
        type=device_name,
        default="cpu",
        help="torch device: cpu (default), cuda or cuda:N",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch intra-op threads, >= 1 (default: all CPU cores, or 1 when "
        "the machine is already busy: load average above half the cores)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        help="timed repeats, >= 1 (median reported)",
    )
    parser.add_argument(
        "--warmup", type=nonnegative_int, default=None, help="untimed warm-up runs"
    )
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="random seed")
    parser.add_argument(
        "--system-malloc",
        action="store_true",
        help="time with glibc's allocator as it is (by default the timing "
        "scripts, bench_transforms, bench_training_step and bench_scaling, "
        "restart with freed memory kept by the process, see "
        "_common.MALLOC_SETTINGS; the accuracy scripts never do)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=RESULTS_DIR,
        help=f"folder of the JSON results, created before the run (default: "
        f"{RESULTS_DIR})",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace the result file even when it holds a run of another "
        "configuration (see below)",
    )
    return parser


#: The rule that keeps recorded results, shown by ``--help``.
RESULTS_RULE = (
    "Results: a run writes <out-dir>/<script>.json (full), <script>_quick.json "
    "or <script>_smoke.json. It replaces that file only when the file holds a "
    "run of the same configuration (every option but --threads, --out-dir, "
    "--verbose and --system-malloc; a size given at its mode's default is that "
    "default); otherwise it stops before any work and "
    "names the options that differ: give another --out-dir, or --replace."
)


def module_command(name, *args):
    """The command line that runs benchmark ``name`` in a new interpreter
    (``python -m benchmarks.NAME``; run it with ``cwd=ROOT``)."""
    return [sys.executable, "-m", f"{__package__}.{name}", *map(str, args)]


#: the batch of EEG windows of the timing benchmarks by mode: ``{option:
#: (full, quick, smoke)}`` (see :func:`pick`)
WINDOW_DEFAULTS = {"batch": (64, 64, 4), "n_times": (3000, 3000, 600)}


def add_window_arguments(parser, batch=None, n_times=None):
    """``--batch`` and ``--n-times``, the batch of EEG windows of the timing
    benchmarks (None: the mode's default, see :func:`pick`)."""
    parser.add_argument(
        "--batch", type=positive_int, default=batch, help=f"batch size ({batch or 64})"
    )
    parser.add_argument(
        "--n-times",
        type=positive_int,
        default=n_times,
        help=f"window length in samples ({n_times or 3000})",
    )
    return parser


def sleep_training_defaults(n_seeds):
    """The sleep-staging options of :func:`add_sleep_training_arguments` by
    mode, ``{option: (full, quick, smoke)}`` (see :func:`pick`); full runs:
    the figures quoted in the issues (10 subjects x 2 h, 15 epochs)."""
    from braindecode_augnet.study import pipeline as P

    return {
        "n_subjects": (P.DEFAULT_N_SUBJECTS, 6, 3),
        "n_hours": (2.0, 1.5, 0.5),
        "n_seeds": tuple(n_seeds),
        "epochs": (15, 4, 1),
        "n_copies": (P.DEFAULT_N_COPIES, P.DEFAULT_N_COPIES, 4),
    }


def add_sleep_training_arguments(parser):
    """The sleep-staging data and training options shared by the accuracy
    benchmarks (None: the mode's default, see :func:`pick`)."""
    parser.add_argument(
        "--n-subjects", type=positive_int, default=None, help="subjects"
    )
    parser.add_argument(
        "--n-hours",
        type=positive_float,
        default=None,
        help="hours per synthetic recording",
    )
    parser.add_argument(
        "--n-seeds",
        type=positive_int,
        default=None,
        help="seeds: --seed, --seed + 1, ...",
    )
    parser.add_argument("--epochs", type=positive_int, default=None, help="max epochs")
    parser.add_argument(
        "--batch-size", type=positive_int, default=64, help="batch size"
    )
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="learning rate")
    parser.add_argument(
        "--n-copies", type=positive_int, default=None, help="copies averaged by AugNet"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print skorch's per-epoch logs"
    )
    return parser


def checkpoint_dirs(clf):
    """Folders of the estimator's skorch ``Checkpoint`` callbacks."""
    from skorch.callbacks import Checkpoint

    return [
        Path(cb.dirname)
        for _, cb in getattr(clf, "callbacks_", [])
        if isinstance(cb, Checkpoint) and cb.dirname
    ]


def best_epoch(clf):
    """Epoch (1-based) and value of the best validation balanced accuracy."""
    values = clf.history[:, "valid_bacc"]
    best = int(max(range(len(values)), key=values.__getitem__))
    return best + 1, float(values[best])


def mode_name(args):
    """``'smoke'``, ``'quick'`` or ``'full'``."""
    if args.smoke:
        return "smoke"
    return "quick" if args.quick else "full"


#: the options that pick a run's mode (see :func:`mode_name`)
MODES = ("quick", "smoke")


def pick(args, full, quick, smoke, given=None):
    """The value of a setting for the run's mode (``given``, the value of
    its option, wins unless it is None)."""
    if given is not None:
        return given
    return pick_mode(mode_name(args), full, quick, smoke)


def pick_mode(mode, full, quick, smoke):
    """``full``, ``quick`` or ``smoke``, as ``mode`` names."""
    return {"full": full, "quick": quick, "smoke": smoke}[mode]


def repeats_and_warmup(args, full=(10, 2), quick=(3, 1), smoke=(1, 0)):
    """Numbers of timed repeats and warm-up runs (command line wins).

    These are minimum numbers of rounds: see :func:`adaptive` for the extra
    rounds given to cheap functions.
    """
    repeats, warmup = pick(args, full, quick, smoke)
    if args.repeats is not None:
        repeats = args.repeats
    if args.warmup is not None:
        warmup = args.warmup
    return max(1, repeats), max(0, warmup)


def adaptive(args):
    """Keyword arguments of :func:`time_interleaved` adding rounds to cheap
    functions: up to 1 s (full) or 0.3 s (quick) of timed calls each."""
    if args.repeats is not None or args.smoke:
        return {}
    return {"min_total_s": pick(args, 1.0, 0.3, 0.0), "max_repeats": None}


def setup(args):
    """Seed, set the CPU threads and return the :class:`torch.device`.

    Raises
    ------
    SystemExit
        If a CUDA device is asked for and none is available.
    """
    quiet_warnings()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but CUDA is not available.")
    threads, reason = choose_threads(args.threads)
    torch.set_num_threads(threads)
    args.threads_reason = reason
    torch.manual_seed(args.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = False
    return device


def choose_threads(requested=None):
    """Number of torch threads and why.

    All the cores when the machine is idle. On a machine already busy (1-min
    load average above half the cores), threads of one op wait for each other
    while the OS runs other processes, which makes timings slow and erratic:
    one thread is then used. ``requested`` wins.
    """
    cores = os.cpu_count() or 1
    if requested:
        return int(requested), "--threads"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if cores > 1 and load > cores / 2:
        return 1, f"busy machine (load {load:.1f} on {cores} cores): 1 thread"
    return cores, f"all {cores} cores (load {load:.1f})"


# ------------------------------------------------------------------- timing
def synchronize(device):
    """Wait for the device's pending work (no-op on CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_once(fn, device):
    """Seconds taken by one call of ``fn`` (synchronised)."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def time_interleaved(
    fns,
    device,
    repeats,
    warmup,
    slow_s=None,
    slow_repeats=3,
    min_total_s=0.0,
    max_repeats=None,
):
    """Time several functions, alternating them within each round.

    Alternating makes the functions share the load changes of a busy machine,
    so that their ratios are steadier than with one block per function.

    Parameters
    ----------
    fns : dict of str -> callable
        Functions without arguments.
    device : torch.device
        Device to synchronise.
    repeats, warmup : int
        Timed rounds and untimed warm-up rounds.
    slow_s : float | None
        When the slowest warm-up call takes longer than this, at most
        ``slow_repeats`` rounds are timed (keeps slow baselines affordable).
    slow_repeats : int
        See ``slow_s``.
    min_total_s : float
        After ``repeats`` rounds, keep going until every function has run for
        at least this many seconds in total (cheap functions get more
        repeats, hence steadier medians), up to ``max_repeats`` rounds.
    max_repeats : int | None
        Cap on the rounds added by ``min_total_s`` (default ``5 * repeats``).

    Returns
    -------
    dict of str -> list of float
        Seconds of every timed call.
    """
    slowest = 0.0
    for _ in range(warmup):
        for fn in fns.values():
            slowest = max(slowest, time_once(fn, device))
    if slow_s is not None and slowest > slow_s:
        repeats = min(repeats, slow_repeats)
    max_repeats = max(repeats, max_repeats or 5 * repeats)
    times = {name: [] for name in fns}
    rounds = 0
    while rounds < repeats or (
        rounds < max_repeats and min(sum(t) for t in times.values()) < min_total_s
    ):
        for name, fn in fns.items():
            times[name].append(time_once(fn, device))
        rounds += 1
    return times


def summarize(times):
    """Median, minimum, maximum and count of a list of seconds."""
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "n": len(times),
    }


def mean_std(values):
    """Mean, standard deviation (0 for one value) and count of ``values``,
    ``None`` ones left out (mean and std ``None`` when nothing is left)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"mean": None, "std": None, "n": 0}
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def ratio(a, b):
    """``a / b``, or ``None`` when either is missing."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def linear_fit(xs, ys):
    """Least-squares line and log-log slope of ``ys`` against ``xs``.

    Returns
    -------
    dict
        ``slope`` (seconds per unit), ``intercept``, ``r2`` of the line, and
        ``loglog_slope``: the exponent ``k`` of ``y ~ x**k`` (1 is linear).
    """
    import numpy as np

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(x) < 2:
        return {"slope": None, "intercept": None, "r2": None, "loglog_slope": None}
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1 - (residual**2).sum() / total if total > 0 else 1.0
    loglog = np.polyfit(np.log(x), np.log(y), 1)[0] if (y > 0).all() else None
    return {
        "slope": float(slope),
        "intercept": float(intercept),
        "r2": float(r2),
        "loglog_slope": None if loglog is None else float(loglog),
    }


# ---------------------------------------------------------------- op counts
class _OpCounter(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.count = 0
        self.kernels = 0
        self.host_reads = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        if not func.is_view and func.overloadpacket not in _NO_KERNEL:
            self.kernels += 1
        if func.overloadpacket in _HOST_READS:
            self.host_reads += 1
        return func(*args, **(kwargs or {}))


_HOST_READS = (torch.ops.aten.item, torch.ops.aten._local_scalar_dense)
#: operators that allocate or alias memory without running a kernel
_NO_KERNEL = (
    torch.ops.aten.empty,
    torch.ops.aten.empty_like,
    torch.ops.aten.empty_strided,
    torch.ops.aten.resize_,
    torch.ops.aten.detach,
    torch.ops.aten.lift_fresh,
)


def count_aten_ops(fn, profiler=False):
    """Aten operators of one call of ``fn`` (after a warm-up call).

    Every operator that reaches a kernel is counted once (forward, backward
    and optimizer alike; views included, nested calls of composite operators
    not): the CPU stand-in for the number of kernel launches. Also counts
    the operators that read a value on the host (``item``), each a
    synchronisation on an accelerator, and the kernels: the operators that
    are neither views nor allocations, the closest to launches on an
    accelerator.

    Parameters
    ----------
    fn : callable
        Called twice: a warm-up, then the counted call (three times with
        ``profiler``).
    profiler : bool
        Also count the ``aten::`` events that :mod:`torch.profiler` records
        for one call, nested calls included (the count quoted in issue 10;
        the profiler takes a few seconds to start the first time), and the
        launches among them (see :func:`profiler_launches`).

    Returns
    -------
    dict
        ``{"aten_ops": int, "kernels": int, "host_reads": int}``, plus
        ``"profiler_aten_events"`` and ``"launches"`` with ``profiler``.
    """
    fn()
    with _OpCounter() as counter:
        fn()
    counts = {
        "aten_ops": counter.count,
        "kernels": counter.kernels,
        "host_reads": counter.host_reads,
    }
    if profiler:
        events = profiled_events(fn)
        counts["profiler_aten_events"] = sum(
            event.name.startswith("aten::") for event in events
        )
        counts["launches"] = profiler_launches(events)["launches"]
    return counts


def profiled_events(fn):
    """The :mod:`torch.profiler` events (CPU) of one call of ``fn``."""
    from torch.profiler import ProfilerActivity, profile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Profiler clears events..."
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fn()
    return prof.events()


#: in the profiler name of each kernel that ``torch.compile`` generates on
#: CPU (inductor's C++ kernels, profiled with
#: ``torch._inductor.config.cpp.enable_kernel_profile``)
FUSED_MARK = "cpp_fused"


def profiler_launches(events):
    """Launches of a profiled call, counted the same way eager and compiled:
    the outermost ``aten::`` events (not inside another) that are neither
    views nor allocations (as :class:`_OpCounter` counts kernels), plus the
    kernels that ``torch.compile`` generated (:data:`FUSED_MARK`), which
    run no aten operator. ``{"launches", "aten", "fused"}``."""
    no_kernel = {f"aten::{packet.__name__.split('.')[-1]}" for packet in _NO_KERNEL}
    aten = fused = 0
    for event in events:
        name = event.name
        if FUSED_MARK in name:
            fused += 1
            continue
        if not name.startswith("aten::") or name in no_kernel or _is_view(name):
            continue
        parent = event.cpu_parent
        while parent is not None and not parent.name.startswith("aten::"):
            parent = parent.cpu_parent
        aten += parent is None
    return {"launches": aten + fused, "aten": aten, "fused": fused}


def _is_view(name):
    """Whether the aten operator ``name`` (``aten::op``) is a view (every
    overload of it; unknown names are not)."""
    packet = getattr(torch.ops.aten, name[len("aten::") :], None)
    overloads = packet.overloads() if packet is not None else ()
    return bool(overloads) and all(getattr(packet, o).is_view for o in overloads)


# ------------------------------------------------------------------- memory
def _storage_key(tensor):
    try:
        storage = tensor.untyped_storage()
        return storage.data_ptr(), storage.nbytes()
    except (RuntimeError, NotImplementedError):  # sparse or exotic tensors
        return id(tensor), tensor.numel() * tensor.element_size()


@contextmanager
def saved_tensors_meter(exclude=()):
    """Measure the bytes that autograd saves for the backward pass.

    Counts each distinct storage once, leaving out those of ``exclude``
    (inputs and parameters, which exist anyway). This is the memory a
    forward pass holds until its backward on any device, and the part of the
    peak that grows with the batch; it is the CPU stand-in for
    :func:`torch.cuda.max_memory_allocated`.

    Yields
    ------
    dict
        ``{"bytes": int}``, filled in while the block runs.
    """
    excluded = {_storage_key(t)[0] for t in exclude}
    seen = set()
    meter = {"bytes": 0}

    def pack(tensor):
        ptr, nbytes = _storage_key(tensor)
        if ptr not in excluded and ptr not in seen:
            seen.add(ptr)
            meter["bytes"] += nbytes
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield meter


def cuda_peak_bytes(fn, device):
    """Peak CUDA memory allocated by ``fn`` above what was allocated before."""
    gc.collect()
    synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def max_rss_bytes():
    """Peak resident set size of this process so far (``ru_maxrss``)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux: KiB


# ---------------------------------------------------------------- machine
def _package_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # noqa: BLE001 - not installed or no metadata
        return None


def versions():
    """Versions of python, torch, braindecode, braindecode_augnet and more."""
    import braindecode

    import braindecode_augnet

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "braindecode": getattr(braindecode, "__version__", None),
        "braindecode_augnet": getattr(braindecode_augnet, "__version__", None),
        "numpy": _package_version("numpy"),
        "mne": _package_version("mne"),
        "skorch": _package_version("skorch"),
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info(device):
    """Platform, CPU, threads, load and (on CUDA) GPU of this run."""
    device = torch.device(device)
    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "device": str(device),
        "cuda_available": torch.cuda.is_available(),
        "malloc_settings": malloc_settings(),
    }
    if hasattr(os, "getloadavg"):
        info["load_average_1_5_15min"] = list(os.getloadavg())
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info["gpu"] = props.name
        info["gpu_memory_bytes"] = props.total_memory
        info["cuda_version"] = torch.version.cuda
    return info


# ------------------------------------------------------------------ output
def fmt_time(seconds):
    """Seconds as a short string in s or ms."""
    if seconds is None:
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.1f} ms"


def fmt_bytes(nbytes):
    """Bytes as a short string in MiB (``n/a`` when unknown)."""
    if nbytes is None:
        return "n/a"
    return f"{nbytes / 2**20:.1f} MiB"


def fmt_ratio(value):
    """A ratio as ``1.23x`` (``n/a`` when unknown)."""
    return "n/a" if value is None else f"{value:.2f}x"


def format_table(headers, rows):
    """A plain-text table with aligned columns."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def target(name, value, threshold, comparison="<="):
    """A target record: ``value <= threshold`` (or ``>=``)."""
    if value is None:
        met = None
    elif comparison == "<=":
        met = value <= threshold
    else:
        met = value >= threshold
    return {
        "name": name,
        "value": value,
        "threshold": threshold,
        "comparison": comparison,
        "met": met,
    }


#: Status of the targets of a ``--smoke`` run (one cold repeat at tiny sizes).
SMOKE_STATUS = "smoke (not a measurement)"


def mode_targets(args, targets):
    """The targets as the run records them: a ``--smoke`` run evaluates
    none (``met`` None, ``status`` :data:`SMOKE_STATUS`, the value kept)."""
    if mode_name(args) == "smoke":
        return [{**t, "met": None, "status": SMOKE_STATUS} for t in targets]
    return list(targets)


def format_targets(targets):
    """The targets as a table with MET / MISSED (or their recorded status)."""
    rows = []
    for t in targets:
        status = (
            t.get("status") or {True: "MET", False: "MISSED", None: "n/a"}[t["met"]]
        )
        value = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        rows.append([t["name"], value, f"{t['comparison']} {t['threshold']:g}", status])
    return format_table(["target", "value", "threshold", "status"], rows)


#: Options that do not change what a run measures: left out of the
#: configuration that decides whether a result file may be replaced.
INCIDENTAL = (
    "threads",
    "threads_reason",
    "out_dir",
    "verbose",
    "system_malloc",
    "replace",
    "memory_worker",
)


def results_path(name, args, ext="json"):
    """``<out_dir>/<name>.<ext>`` for full runs, ``<name>_quick.<ext>`` /
    ``<name>_smoke.<ext>`` otherwise."""
    mode = mode_name(args)
    suffix = "" if mode == "full" else f"_{mode}"
    return Path(args.out_dir) / f"{name}{suffix}.{ext}"


def configuration(options):
    """The options of a run that decide what it measures, as JSON values.

    Parameters
    ----------
    options : dict
        ``vars(args)``, or the ``args`` recorded in a result file.
    """
    kept = {k: v for k, v in options.items() if k not in INCIDENTAL}
    return json.loads(json.dumps(kept, default=str))


def differences(first, second, names=("recorded", "this run")):
    """``key (first: value, second: value)`` for each key whose values
    differ (a missing key counts as None)."""
    return [
        f"{key} ({names[0]}: {first.get(key)!r}, {names[1]}: {second.get(key)!r})"
        for key in sorted(set(first) | set(second))
        if first.get(key) != second.get(key)
    ]


def make_out_dir(parser, folder, option="--out-dir"):
    """Create ``folder`` and check that files can be written there, before
    any work (an argparse error naming ``option`` otherwise)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        parser.error(f"argument {option}: {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        parser.error(
            f"argument {option}: cannot write into {folder}: {exc.strerror or exc}"
        )
    return folder


def resolved(options, defaults=None):
    """:func:`configuration` of ``options`` with each option of ``defaults``
    (``{option: (full, quick, smoke)}``, as given to :func:`pick`) that is
    None replaced by its mode's value: ``--batch 64`` is the configuration
    of a run that left ``--batch`` at its default of 64."""
    options = configuration(options)
    mode = mode_name(argparse.Namespace(**{k: options.get(k) for k in MODES}))
    for option, values in (defaults or {}).items():
        if options.get(option) is None:
            options[option] = configuration({option: pick_mode(mode, *values)})[option]
    return options


def prepare_output(parser, args, name, defaults=None):
    """Before any work: create ``--out-dir`` and refuse to replace a result
    file of another configuration (see :data:`RESULTS_RULE`; the options of
    ``defaults`` compared as :func:`resolved` makes them).

    Returns
    -------
    pathlib.Path
        The result file the run will write.
    """
    make_out_dir(parser, args.out_dir)
    path = results_path(name, args)
    if getattr(args, "replace", False) or not path.exists():
        return path
    try:
        payload = json.loads(path.read_text())
        recorded = payload["args"]
        ours = payload.get("benchmark") == name and isinstance(recorded, dict)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ours = False
    if not ours:
        parser.error(
            f"{path} exists and is not a {name} result: pass --replace to "
            "replace it, or give another --out-dir."
        )
    changed = differences(resolved(recorded, defaults), resolved(vars(args), defaults))
    if changed:
        parser.error(
            f"{path} holds a run of another configuration, which this run would "
            f"replace: {'; '.join(changed)}. Pass --replace to replace it, or "
            "give another --out-dir."
        )
    return path


def write_results(name, args, device, settings, results, targets=()):
    """Write a benchmark's JSON file (:func:`results_path`) and return its
    path. The targets of a ``--smoke`` run are recorded as not evaluated."""
    mode = mode_name(args)
    payload = {
        "benchmark": name,
        "mode": mode,
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "args": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        },
        "seed": args.seed,
        "machine": machine_info(device),
        "versions": versions(),
        "settings": settings,
        "results": results,
        "targets": mode_targets(args, targets),
    }
    path = results_path(name, args)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwrote {path}")
    return path


def print_header(title, args, device):
    """Print the benchmark's title, mode, device and threads."""
    print(f"== {title} ==")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"mode={mode_name(args)} device={device} torch_threads="
        f"{torch.get_num_threads()} seed={args.seed} load(1 min)={load:.2f}"
    )
    reason = getattr(args, "threads_reason", None)
    if reason:
        print(f"threads: {reason}")
    if memory_kept():
        memory = "kept by the process (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)"
    elif any(malloc_settings().values()):
        memory = f"allocator settings of the environment: {malloc_settings()}"
    else:
        memory = "the allocator's defaults (glibc: freed blocks go back to the OS)"
    print(f"CPU memory: {memory}")
