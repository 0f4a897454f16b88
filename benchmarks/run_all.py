"""Run every available benchmark in sequence and summarise the targets.

Runs ``bench_transforms.py``, ``bench_training_step.py``, ``bench_scaling.py``,
``bench_accuracy.py`` and ``bench_planted.py`` (or those of ``--scripts``), each
in its own Python process (fresh memory, one crash does not stop the others),
with the same mode, device, seed and number of threads. Then prints every
target with its status and writes ``run_all[_quick|_smoke].json`` next to the
scripts' results.

Usage::

    python -m benchmarks.run_all [--quick] [--device cuda] [--scripts NAME ...]
"""

import datetime
import json
import os
import subprocess
import time

if not __package__:  # run by path: relative imports need the package
    raise SystemExit("python -m benchmarks.run_all (repository root)")

from . import _common as C  # noqa: E402

#: Benchmarks in running order.
SCRIPTS = (
    "bench_transforms",
    "bench_training_step",
    "bench_scaling",
    "bench_accuracy",
    "bench_planted",
)


def _forwarded_args(args, source, threads):
    """Options passed on to a script, limited to those it knows.

    Scripts built on ``_common.base_parser`` get every shared option; others
    (e.g. a ``bench_accuracy.py`` with its own parser) only those whose name
    appears in their source.
    """

    def knows(flag):
        return "base_parser" in source or flag in source

    forwarded = []
    if args.smoke and knows("--smoke"):
        forwarded.append("--smoke")
    elif args.quick and knows("--quick"):
        forwarded.append("--quick")
    if knows("--device"):
        forwarded += ["--device", args.device]
    if knows("--threads"):
        forwarded += ["--threads", str(threads)]
    if knows("--seed"):
        forwarded += ["--seed", str(args.seed)]
    if knows("--out-dir"):
        forwarded += ["--out-dir", str(args.out_dir)]
    if knows("--repeats") and args.repeats is not None:
        forwarded += ["--repeats", str(args.repeats)]
    if knows("--warmup") and args.warmup is not None:
        forwarded += ["--warmup", str(args.warmup)]
    if knows("--replace") and args.replace:
        forwarded.append("--replace")
    return forwarded


def _load_targets(path, started):
    """Targets of a result file written after ``started`` (else None)."""
    if not path.exists() or path.stat().st_mtime < started:
        return None
    try:
        return json.loads(path.read_text()).get("targets", [])
    except (OSError, ValueError):
        return None


def main(argv=None):
    """Run the benchmarks; return the summary's path."""
    parser = C.base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--scripts",
        nargs="+",
        type=lambda name: name.removesuffix(".py"),
        choices=SCRIPTS,
        default=list(SCRIPTS),
        metavar="NAME",
        help=f"benchmarks to run, in order, of {', '.join(SCRIPTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    path = C.prepare_output(parser, args, "run_all")
    C.quiet_warnings()
    threads, reason = C.choose_threads(args.threads)
    mode = C.mode_name(args)
    print(f"run_all: mode={mode} device={args.device} threads={threads} ({reason})")

    runs, all_targets = [], []
    for name in args.scripts:
        script = C.BENCH_DIR / f"{name}.py"
        command = C.module_command(
            script.stem, *_forwarded_args(args, script.read_text(), threads)
        )
        print(f"\n### {' '.join([script.name, *command[3:]])}", flush=True)
        started = time.time()
        env = dict(os.environ, PYTHONWARNINGS="ignore::FutureWarning")
        proc = subprocess.run(command, check=False, env=env, cwd=C.ROOT)
        wall = time.time() - started
        targets = _load_targets(C.results_path(script.stem, args), started)
        status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
        runs.append(
            {
                "script": script.name,
                "status": status,
                "wall_s": wall,
                "targets": targets,
            }
        )
        for t in targets or []:
            all_targets.append({**t, "name": f"{script.stem}: {t['name']}"})
        print(f"### {script.name}: {status} in {wall:.0f} s", flush=True)

    print("\n== Summary ==")
    print(
        C.format_table(
            ["script", "status", "wall time"],
            [
                [
                    r["script"],
                    r["status"],
                    f"{r['wall_s']:.0f} s" if "wall_s" in r else "-",
                ]
                for r in runs
            ],
        )
    )
    if all_targets:
        print()
        print(C.format_targets(all_targets))
        if mode == "smoke":
            print(f"\ntargets not evaluated: {C.SMOKE_STATUS}")
        else:
            met = sum(t["met"] is True for t in all_targets)
            print(f"\n{met} of {len(all_targets)} targets met")

    payload = {
        "benchmark": "run_all",
        "mode": mode,
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
        "threads": threads,
        "threads_reason": reason,
        "device": args.device,
        "seed": args.seed,
        "args": C.configuration(vars(args)),
        "versions": C.versions(),
        "runs": runs,
        "targets": C.mode_targets(args, all_targets),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwrote {path}")
    if any(r["status"].startswith("failed") for r in runs):
        raise SystemExit(1)
    return path


if __name__ == "__main__":
    main()
