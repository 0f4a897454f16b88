"""Operators of an AugNet training step, counted for several revisions side by side.

Issue 10 asks for 3x fewer operators per training step than at the commit
where it was filed. A ratio of counts only means something when both are
counted the same way, on the same machine and torch: this script checks out
each revision given (``git worktree``, in a temporary folder), counts one
forward + backward of AugNet's loss there, in a subprocess that imports that
revision's ``braindecode_augnet``, and prints every count with its ratio to
the first revision's.

The step is the one of ``bench_training_step.py``: the paper's 3-layer EEG
preset around ``SleepStagerChambon2018``, 64 windows of 2 x 3000 samples,
``NLL - 0.5 * augmentation_regularizer`` (reusing the forward pass's policy
where the revision can), counted by ``_common.count_aten_ops`` (profiler
``aten::`` events, nested calls included; dispatched operators; kernels;
launches, the profiler's count of kernels, see ``--compile``).
Only the public API that every revision has is used.

Usage::

    python -m benchmarks.compare_op_counts 382b077 HEAD
    python -m benchmarks.compare_op_counts 382b077 .   # "." : the working tree
    python -m benchmarks.compare_op_counts --breakdown  # where the kernels are
    python -m benchmarks.compare_op_counts . --compile inductor

``--compile BACKEND`` also counts, in each revision, the launches of the
same step of ``torch.compile``'d copies of the trunk and of AugNet (drawing
from torch's default generator, as ``bench_training_step.py`` compiles
them: a seeded generator breaks the graph) beside the eager ones, both by
``_common.profiler_launches`` (outermost aten kernels plus the kernels
that inductor generates): what a compiled step launches, which no
dispatched-operator count sees. ``inductor`` needs a C++ compiler.

``--breakdown`` counts the working tree's step once per sampling mode and
attributes each kernel: forward kernels to the innermost function of
``braindecode_augnet`` that called them (``trunk`` and ``loss`` for the
rest), backward kernels to the autograd node that ran them
(``AccumulateGrad``: the additions into ``.grad``).
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.compare_op_counts (repository root)")

import torch  # noqa: E402

from . import _common as C  # noqa: E402
from . import bench_training_step as B  # noqa: E402

SAMPLINGS = ("mixture", "sampled")


def _step(sampling, batch=64, n_chans=2, n_times=3000, seed=0):
    """One AugNet forward + backward with the installed (or first
    importable) ``braindecode_augnet``, built as ``bench_training_step.py``
    builds it; and whether its regulariser reuses the forward pass's policy
    (``bench_training_step``'s ``augnet_forward_backward``, which older
    revisions do not support)."""
    trunk = B.build_trunk(n_chans, n_times, seed)
    net = B.build_augnet(trunk, sampling, seed, n_chans=n_chans).train()
    X, y = B.make_data(batch, n_chans, n_times, seed, "cpu")
    return _loss_step(net, X, y)


def _loss_step(net, X, y):
    """:func:`_step`'s forward + backward of ``net`` (an AugNet, or its
    compiled copy) on ``(X, y)``, and whether the regulariser reuses."""
    import inspect

    import torch.nn.functional as F

    import braindecode_augnet as package

    regularizer = package.augmentation_regularizer
    reuse = "reuse_forward" in inspect.signature(regularizer).parameters
    kwargs = {"reuse_forward": True} if reuse else {}

    def step():  # the forward pass first, then the regulariser
        loss = F.nll_loss(net(X), y) - B.REG * regularizer(net, **kwargs)
        loss.backward()

    return step, reuse


def count_step(sampling, batch=64, n_chans=2, n_times=3000, seed=0):
    """Counts of one AugNet forward + backward (see :func:`_step`)."""
    import braindecode_augnet as package

    step, reuse = _step(sampling, batch, n_chans, n_times, seed)
    counts = C.count_aten_ops(step, profiler=True)
    counts["package"] = str(Path(package.__file__).parent)
    counts["reuse_forward"] = reuse
    return counts


def count_compiled(
    backend, batch=64, n_chans=2, n_times=3000, seed=0, models=("trunk", *SAMPLINGS)
):
    """Launches (:func:`~benchmarks._common.profiler_launches`) of one
    forward + backward of the trunk and of each sampling mode's AugNet,
    eager and ``torch.compile``'d with ``backend`` (unseeded draws), after
    three calls (the first compiles, the second recompiles once the layers
    are calibrated); ``models``: ``"trunk"`` and sampling modes.
    ``{name: {"eager": {...}, "compiled": {...}}}``."""
    import torch._inductor.config as inductor_config

    inductor_config.cpp.enable_kernel_profile = True
    trunk = B.build_trunk(n_chans, n_times, seed)
    X, y = B.make_data(batch, n_chans, n_times, seed, "cpu")
    built = {
        name: trunk
        if name == "trunk"
        else B.build_augnet(trunk, name, None, n_chans=n_chans)
        for name in models
    }
    counts = {}
    for name, model in built.items():
        counts[name] = {}
        for how in ("eager", "compiled"):
            module = copy.deepcopy(model)
            if how == "compiled":
                module = torch.compile(module, backend=backend)
            if name == "trunk":
                step = B.trunk_forward_backward(module, X, y)
            else:
                step, _ = _loss_step(module.train(), X, y)
            for _ in range(3):
                step()
            counts[name][how] = C.profiler_launches(C.profiled_events(step))
    return counts


class _Attributing(C._OpCounter):
    """Kernels by forward function and backward node (see ``--breakdown``)."""

    def __init__(self):
        super().__init__()
        self.where = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kernels = self.kernels
        out = super().__torch_dispatch__(func, types, args, kwargs)
        if self.kernels > kernels:
            key = _place()
            self.where[key] = self.where.get(key, 0) + 1
        return out


def _place():
    node = torch._C._current_autograd_node()
    if node is not None:
        return "backward", node.name().split("::")[-1]
    frame = sys._getframe(2)
    trunk = (f"{os.sep}braindecode{os.sep}", os.path.join("torch", "nn", "modules"))
    while frame is not None:  # innermost first
        name = frame.f_code.co_filename
        if f"{os.sep}braindecode_augnet{os.sep}" in name:
            return "forward", frame.f_code.co_qualname
        if any(part in name for part in trunk):
            return "forward", "trunk"
        frame = frame.f_back
    return "forward", "loss"


def breakdown(sampling, batch=64, n_times=3000, seed=0):
    """Kernels of one AugNet forward + backward (as :func:`count_step`
    counts them) by place: ``{(pass, place): kernels}``."""
    step, _ = _step(sampling, batch, n_times=n_times, seed=seed)
    step()  # warm-up, as count_step: the parameters' .grad exist
    with _Attributing() as counter:
        step()
    return counter.where


def breakdown_table(sampling, where):
    """The places sorted by pass then kernels, with the totals."""
    lines = [f"{sampling}: {sum(where.values())} kernels"]
    for phase in ("forward", "backward"):
        places = {k[1]: n for k, n in where.items() if k[0] == phase}
        lines.append(f"  {phase}: {sum(places.values())}")
        for place, n in sorted(places.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"    {n:4d}  {place}")
    return "\n".join(lines)


def _run_child(tree, threads, batch, n_times, backend=None):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = C.module_command(
        "compare_op_counts",
        *("--child", "--tree", tree, "--threads", threads),
        *("--batch", batch, "--n-times", n_times),
        *(() if backend is None else ("--compile", backend)),
    )
    done = subprocess.run(
        cmd, env=env, cwd=C.ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"counting in {tree} failed:\n{done.stderr[-2000:]}")
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    expected = (Path(tree) / "braindecode_augnet").resolve()
    for sampling in SAMPLINGS:
        if Path(counts[sampling]["package"]).resolve() != expected:
            raise RuntimeError(
                f"counting in {tree} imported {counts[sampling]['package']}, not "
                f"{expected}: "
                "the revision has no braindecode_augnet package at its root."
            )
    return counts


def _check_revision(parser, revision):
    """An argparse error unless ``revision`` is ``"."`` or a git commit."""
    if revision == ".":
        return
    found = subprocess.run(
        ["git", "-C", str(C.ROOT), "rev-parse", "--verify", "--quiet"]
        + [f"{revision}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if found.returncode:
        parser.error(
            f"argument revisions: {revision!r} is not a commit of {C.ROOT} "
            "(give git revisions, or . for the working tree)"
        )


def count_revision(revision, threads=1, batch=64, n_times=3000, backend=None):
    """``{sampling: counts}`` for a git revision, or ``"."`` (the working
    tree), with ``"compiled"`` (:func:`count_compiled`) given a ``backend``."""
    if revision == ".":
        return _run_child(C.ROOT, threads, batch, n_times, backend)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        git = ["git", "-C", str(C.ROOT), "worktree"]
        added = subprocess.run(
            [*git, "add", "--detach", str(tree), revision],
            capture_output=True,
            text=True,
            check=False,
        )
        if added.returncode:
            raise RuntimeError(f"git worktree add {revision}: {added.stderr.strip()}")
        try:
            return _run_child(tree, threads, batch, n_times, backend)
        finally:
            for command in (["remove", "--force", str(tree)], ["prune"]):
                subprocess.run([*git, *command], check=False, capture_output=True)


def table(results):
    """Rows of counts with their ratios to the first revision's."""
    first = next(iter(results.values()))
    lines = [
        f"{'revision':<12} {'sampling':<8} {'profiler events':>16} "
        f"{'first/this':>10} {'kernels':>8} {'first/this':>10} {'launches':>9}"
    ]
    for revision, counts in results.items():
        for sampling in SAMPLINGS:
            c, f = counts[sampling], first[sampling]
            events, kernels = c["profiler_aten_events"], c["kernels"]
            lines.append(
                f"{revision:<12} {sampling:<8} {events:>16,} "
                f"{f['profiler_aten_events'] / events:>9.2f}x {kernels:>8,} "
                f"{f['kernels'] / kernels:>9.2f}x {c['launches']:>9,}"
            )
    return "\n".join(lines)


def compiled_table(results):
    """Launches of each revision's eager and compiled steps (``--compile``),
    with each AugNet's ratio to the trunk of the same revision and mode."""
    lines = [
        f"{'revision':<12} {'model':<8} {'eager':>7} {'compiled':>9} "
        f"{'(fused)':>8} {'eager/trunk':>12} {'compiled/trunk':>15}"
    ]
    for revision, counts in results.items():
        launches = counts["compiled"]
        trunk = launches["trunk"]
        for name, c in launches.items():
            eager, compiled = c["eager"]["launches"], c["compiled"]["launches"]
            lines.append(
                f"{revision:<12} {name:<8} {eager:>7,} {compiled:>9,} "
                f"{c['compiled']['fused']:>8,} "
                f"{eager / trunk['eager']['launches']:>11.2f}x "
                f"{compiled / trunk['compiled']['launches']:>14.2f}x"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revisions", nargs="*", default=["."])
    parser.add_argument("--threads", type=C.positive_int, default=1)
    C.add_window_arguments(parser, batch=64, n_times=3000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--out",
        type=Path,
        help="write the counts as JSON here (its folder is created first)",
    )
    parser.add_argument(
        "--compile",
        metavar="BACKEND",
        default=None,
        help="also count the launches of torch.compile'd steps with this "
        "backend (e.g. inductor), beside the eager ones",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="the working tree's kernels by forward function and backward node",
    )
    args = parser.parse_args(argv)
    if args.out:  # before counting: a file that cannot be written loses them
        if args.out.is_dir():
            parser.error(f"argument --out: {args.out} is a folder, not a file")
        C.make_out_dir(parser, args.out.parent, "--out")
    if not (args.breakdown or args.child):
        for revision in args.revisions:
            _check_revision(parser, revision)
    if args.breakdown:
        torch.set_num_threads(args.threads)
        found = {}
        for sampling in SAMPLINGS:
            where = breakdown(sampling, args.batch, n_times=args.n_times)
            print(breakdown_table(sampling, where))
            found[sampling] = {f"{k[0]}: {k[1]}": n for k, n in where.items()}
        if args.out:
            args.out.write_text(json.dumps(found, indent=2))
        return found
    if args.child:  # count with the library of the revision's tree
        sys.path.insert(0, str(args.tree))
        torch.set_num_threads(args.threads)
        counts = {s: count_step(s, args.batch, n_times=args.n_times) for s in SAMPLINGS}
        if args.compile:
            counts["compiled"] = count_compiled(
                args.compile, args.batch, n_times=args.n_times
            )
        print(json.dumps(counts))
        return None
    results = {}
    for revision in args.revisions:
        print(f"counting {revision} ...", flush=True)
        results[revision] = count_revision(
            revision, args.threads, args.batch, args.n_times, args.compile
        )
    print(table(results))
    if args.compile:
        print(f"\nlaunches, eager and torch.compile(backend={args.compile!r}):")
        print(compiled_table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
