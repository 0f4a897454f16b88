"""Smoke tests of the benchmark scripts (tiny sizes, one repeat)."""

import importlib
import json
import re
import sys
import types
from pathlib import Path

import pytest
import torch

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """Import a benchmark script of the ``benchmarks`` package by name."""
    return lambda name: importlib.import_module(f"benchmarks.{name}")


@pytest.fixture(autouse=True)
def _restore_threads():
    """The scripts set torch's thread count: give the other tests theirs."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _smoke_args(tmp_path, *extra):
    return ["--smoke", "--threads", "1", "--out-dir", str(tmp_path), *extra]


def _load(path):
    payload = json.loads(Path(path).read_text())
    for key in ("benchmark", "mode", "machine", "versions", "seed", "results"):
        assert key in payload
    assert payload["mode"] == "smoke"
    assert payload["versions"]["torch"] and payload["versions"]["braindecode"]
    assert "braindecode_augnet" in payload["versions"]
    assert payload["machine"]["torch_threads"] == 1
    return payload


def _positive_times(stats):
    return all(s["median_s"] > 0 and s["n"] >= 1 for s in stats.values())


def test_bench_transforms(bench, tmp_path):
    module = bench("bench_transforms")
    only = ["FrequencyShift", "ChannelsShuffle", "ChannelsSymmetry", "SensorsZRotation"]
    path = module.main(
        _smoke_args(tmp_path, "--batch", "2", "--n-times", "200", "--only", *only)
    )
    payload = _load(path)
    results = payload["results"]
    assert [r["transform"] for r in results] == only
    for res in results:
        assert _positive_times(res["timings"])
        timed = {"ours_fb", "ours_layer_fb", "ours_frozen_fb", "ours_f", "theirs_f"}
        assert timed <= set(res["timings"])
        assert res["ratio_ours_over_theirs"] > 0
        assert res["same_work_ratio"] > 0
        faults = res["page_faults"]  # per timed function; None off Unix
        assert set(faults) == set(res["timings"])
        assert all(count is None or count >= 0 for count in faults.values())
        assert res["memory"]["ours_bytes"] >= 0
        assert res["aten_ops"]["ours_fb"] >= res["aten_ops"]["ours_layer_fb"] > 0
        assert res["aten_ops"]["theirs"] > 0
    names = [t["name"] for t in payload["targets"]]
    assert "SensorsZRotation: speed-up at batch 2" in names
    assert "FrequencyShift: same work (magnitude frozen)" in names


def test_bench_transforms_frozen_path_restores_the_magnitude(bench, tmp_path):
    """The same-work timing freezes the magnitude only while it runs."""
    module = bench("bench_transforms")
    spec = next(
        s for s in module.specs(module.C.TEN_TWENTY_20) if s.name == "AmplitudeScale"
    )
    built = []

    def ours(magnitude, seed):
        built.append(spec.ours(magnitude, seed))
        return built[-1]

    frozen = module.Spec(spec.name, spec.spatial, ours, spec.theirs)
    args = module.C.base_parser("x").parse_args(["--smoke"])
    args.magnitude, args.seed = 0.5, 0
    module.bench_one(frozen, args, torch.device("cpu"), (2, 2, 50), 1, 0)
    assert all(p.requires_grad for p in built[0].parameters())


def test_bench_transforms_specs_cover_all_names(bench):
    """Every compared transform exists in both libraries and builds."""
    module = bench("bench_transforms")
    specs = module.specs(module.C.TEN_TWENTY_20)
    assert len(specs) == 13
    for spec in specs:
        ours = spec.ours(0.5, 0)
        theirs = spec.theirs(module._op_value(ours, 0.5), 1.0, 0)
        assert type(ours).__name__ == type(theirs).__name__ == spec.name


def test_bench_training_step(bench, tmp_path):
    module = bench("bench_training_step")
    path = module.main(_smoke_args(tmp_path, "--batch", "2", "--n-copies", "3"))
    payload = _load(path)
    results = payload["results"]
    assert _positive_times(results["training"])
    assert set(results["training"]) == {
        "trunk",
        "augnet_mixture",
        "augnet_sampled",
        "aug_only_mixture",
        "aug_only_sampled",
    }
    assert _positive_times(results["inference"])
    ops = results["training_aten_ops"]
    assert set(ops) == {"trunk", "augnet_mixture", "augnet_sampled"}
    for count in ops.values():  # the optimizer adds operators to fwd+bwd
        assert count["step"]["aten_ops"] > count["forward_backward"]["aten_ops"] > 0
    assert ops["augnet_mixture"]["step"]["aten_ops"] > ops["trunk"]["step"]["aten_ops"]
    assert results["inference"]["augnet"]["windows_per_s"] > 0
    assert all(v > 0 for v in results["training_autograd_saved_bytes"].values())
    assert len(payload["targets"]) == 3
    assert all(t["value"] > 0 for t in payload["targets"])
    sequences = results["sequence_models"]
    assert set(sequences) == {"timedistributed", "usleep"}
    for res in sequences.values():
        assert _positive_times(res["training"]) and _positive_times(res["inference"])
        assert all(v > 0 for v in res["ratios"].values())


def test_count_aten_ops_counts_dispatched_ops_host_reads_and_profiler_events(bench):
    common = bench("_common")
    x = torch.ones(3, requires_grad=True)

    def fn():
        (x * 2).sum().backward()  # mul, sum; backward: a few more
        (x > 0).all().item()  # one host read

    counts = common.count_aten_ops(fn, profiler=True)
    assert counts["host_reads"] == 1
    assert 4 <= counts["aten_ops"] < 30
    assert 2 <= counts["kernels"] < counts["aten_ops"]  # views are no kernels
    assert counts["profiler_aten_events"] >= counts["aten_ops"] - 5


def test_profiler_launches_counts_kernels_as_the_dispatch_counter(bench):
    """Outermost aten kernels (no views, allocations or nested calls) and
    the kernels torch.compile generates, which run no aten operator."""
    from types import SimpleNamespace

    common = bench("_common")
    x = torch.ones(8, requires_grad=True)

    def fn():
        (x * 2 + 1).view(2, 4).sum().backward()

    fn()
    launches = common.profiler_launches(common.profiled_events(fn))
    assert launches == {
        "launches": common.count_aten_ops(fn)["kernels"],
        "aten": common.count_aten_ops(fn)["kernels"],
        "fused": 0,
    }

    def event(name, parent=None):
        return SimpleNamespace(name=name, cpu_parent=parent)

    outer = event("aten::linear")
    region = event("Torch-Compiled Region: 0/0")
    events = [
        outer,
        event("aten::addmm", outer),  # inside linear: not another launch
        event("aten::view", None),  # a view
        event("aten::empty", None),  # an allocation
        event("aten::mm", region),  # an extern kernel of a compiled graph
        event("graph_0_cpp_fused_add_mul_0", region),
        event("cpp_fused_sum_1", region),
    ]
    assert common.profiler_launches(events) == {"launches": 4, "aten": 2, "fused": 2}


def test_bench_training_step_compiled(bench, tmp_path, capsys):
    """--compile times compiled copies beside the eager steps ("eager"
    backend: dynamo only, no C compiler, quick)."""
    module = bench("bench_training_step")
    try:
        path = module.main(
            _smoke_args(
                tmp_path,
                *("--batch", "2", "--n-copies", "2", "--sequence-models"),
                *("--compile", "eager"),
            )
        )
    finally:
        torch.compiler.reset()  # no compiled frames left to later tests
    results = _load(path)["results"]
    compiled = {"trunk", "augnet_mixture", "augnet_sampled"}
    assert {f"{name}_compiled" for name in compiled} <= set(results["training"])
    assert _positive_times(results["training"])
    assert results["compile"]["backend"] == "eager"
    assert set(results["compile"]["first_step_s"]) == compiled
    assert "Compiled training steps" in capsys.readouterr().out


def test_bench_training_step_memory_worker(bench, capsys):
    module = bench("bench_training_step")
    args = ["--smoke", "--threads", "1", "--batch", "2", "--n-copies", "2"]
    module.main([*args, "--_memory-worker", "augnet_chunked", "--chunk", "1"])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["config"] == "augnet_chunked"
    assert record["peak_bytes"] is not None and record["method"]


def test_bench_scaling(bench, tmp_path):
    module = bench("bench_scaling")
    path = module.main(_smoke_args(tmp_path, "--axes", "batch", "n_copies"))
    payload = _load(path)
    points, fits = payload["results"]["points"], payload["results"]["fits"]
    assert set(points) == set(fits) == {"batch", "n_copies"}
    for axis, axis_points in points.items():
        assert len(axis_points) >= 2
        for point in axis_points:
            assert _positive_times(point["timings"])
            assert point["memory"]["augnet_bytes"] > 0
        assert fits[axis]["augnet_time"]["slope"] is not None


def test_run_all_forwards_only_known_options(bench, tmp_path):
    module = bench("run_all")
    args = module.C.base_parser("x").parse_args(
        ["--quick", "--device", "cpu", "--out-dir", str(tmp_path)]
    )
    shared = module._forwarded_args(args, "C.base_parser(...)", 2)
    assert shared[:3] == ["--quick", "--device", "cpu"]
    assert "--threads" in shared and "--out-dir" in shared
    own = module._forwarded_args(args, "parser.add_argument('--quick')", 2)
    assert own == ["--quick"]


def test_bench_accuracy(bench, tmp_path):
    module = bench("bench_accuracy")
    path = module.main(_smoke_args(tmp_path))
    payload = _load(path)
    results = payload["results"]
    methods = list(module.METHODS)
    assert methods == [
        "none",
        "fixed",
        "random",
        "augerino",
        "adda",
        "cadda",
        "augnet",
        "augnet_sampled",
    ]
    assert [r["method"] for r in results["per_seed"]] == methods
    assert list(results["summary"]) == methods
    for row in results["per_seed"]:
        assert 0 <= row["balanced_accuracy"] <= 1
        assert -1 <= row["kappa"] <= 1 and 0 <= row["macro_f1"] <= 1
        assert row["train_time_s"] > 0 and row["seed"] == payload["seed"]
    for stats in results["summary"].values():
        assert stats["balanced_accuracy"]["n"] == 1
        assert stats["train_time_s"]["std"] == 0.0
    policy = results["policies"]["augnet"][str(payload["seed"])]
    assert {"layer", "transform", "weight", "magnitude"} <= set(policy[0])
    assert "augerino" in results["policies"]
    cadda = results["policies"]["cadda"][str(payload["seed"])]
    assert {row["class"] for row in cadda} == set(range(5))  # one per stage
    adda = results["policies"]["adda"][str(payload["seed"])]
    assert {row["class"] for row in adda} == {"all"}
    assert set(results["time_ratios"]) == {
        f"{a} / {b}" for a in ("adda", "cadda") for b in ("augnet", "augnet_sampled")
    }
    assert all(value > 0 for value in results["time_ratios"].values())
    assert results["paired"]["augnet - none"]["seeds"] == [payload["seed"]]
    assert "augnet - random" in results["paired"]
    assert len(results["braindecode_fixed_augmentation"]) == 3
    assert Path(results["plot"]).is_file()
    assert Path(results["plot"]).parent == tmp_path
    names = [t["name"] for t in payload["targets"]]
    assert "AugNet - none balanced accuracy" in names


def test_bench_planted(bench, tmp_path):
    """Planted invariances: one row per nuisance, planted values from the
    training subjects' descriptions."""
    import numpy as np
    import pandas as pd

    module = bench("bench_planted")
    path = module.main(_smoke_args(tmp_path))
    payload = _load(path)
    results, settings = payload["results"], payload["settings"]
    nuisances = ["polarity", "channel_swap", "alpha_peak", "amplitude"]
    rows = results["per_seed"]
    assert [r["nuisance"] for r in rows] == nuisances  # one row per nuisance
    for row in rows:
        assert set(module.ROW_KEYS) <= set(row)
        assert row["seed"] == payload["seed"]
        assert row["candidate"] is not None and 0 <= row["weight"] <= 1
        assert row["selected"] == (row["weight"] >= settings["min_weight"])
        assert 0 <= row["learned"] <= row["cap"] + 1e-6
    candidates = {r["nuisance"]: r["candidate"] for r in rows}
    assert candidates["polarity"] == "SignFlip"
    assert candidates["alpha_peak"] == "FrequencyShift"
    assert candidates["amplitude"] == "AmplitudeScale"
    # Fpz-Cz / Pz-Oz have no left/right pair: the swap is read from the shuffle
    assert candidates["channel_swap"] == "ChannelsShuffle"
    assert list(results["summary"]) == nuisances
    assert all(s["n_seeds"] == 1 for s in results["summary"].values())

    # planted values, recomputed from the generator's descriptions of the
    # training subjects (the split prepare_sleep_split draws for this seed)
    from braindecode_augnet.datasets import make_synthetic_sleep, split_by_subject

    raw = make_synthetic_sleep(
        n_subjects=settings["n_subjects"],
        n_hours=settings["n_hours"],
        random_state=payload["seed"],
    )
    train, _, _ = split_by_subject(raw, 0.2, 0.2, random_state=payload["seed"])
    desc = train.description
    planted = {r["nuisance"]: r["planted"] for r in rows}
    assert planted["polarity"] == pytest.approx(desc["polarity_flipped"].mean())
    assert planted["channel_swap"] == pytest.approx(desc["channels_swapped"].mean())
    assert planted["alpha_peak"] == pytest.approx(
        (desc["alpha_peak_hz"] - 10).abs().max()
    )
    assert planted["amplitude"] == pytest.approx(
        np.log2(desc["amplitude_scale"]).abs().max()
    )
    for row in rows:
        comparable = row["planted"]
        if row["nuisance"] in ("polarity", "channel_swap"):  # f and 1 - f
            comparable = min(comparable, 1 - comparable)
        assert row["planted_comparable"] == pytest.approx(comparable)
    seed_result = results["seeds"][str(payload["seed"])]
    assert [t["layer"] for t in seed_result["top_per_layer"]] == [0, 1, 2]
    recorded = seed_result["train_subjects"]
    assert [r["subject"] for r in recorded] == desc["subject"].tolist()

    # a subject's recordings count once; fractions and half-widths
    frame = pd.DataFrame(
        {
            "subject": [0, 0, 1, 2, 3],
            "polarity_flipped": [True, True, False, False, True],
            "channels_swapped": [False, False, True, False, False],
            "alpha_peak_hz": [9.0, 9.0, 11.2, 10.1, 10.0],
            "amplitude_scale": [0.5, 0.5, 1.0, 1.5, 2.0],
        }
    )
    assert module.planted_values(frame) == pytest.approx(
        {"polarity": 0.5, "channel_swap": 0.25, "alpha_peak": 1.2, "amplitude": 1.0}
    )

    scores = results["accuracy"]
    assert len(scores) == 1 and 0 <= scores[0]["balanced_accuracy"] <= 1
    assert Path(results["plot"]).is_file()
    assert Path(results["plot"]).parent == tmp_path


@pytest.mark.parametrize(
    ("variant", "reg_scale"),
    [
        ([], "displacement"),
        (["--reg-scale", "magnitude", "--sampling", "sampled"], "magnitude"),
    ],
)
def test_study_sinusoid_policy(bench, capsys, variant, reg_scale):
    module = bench("study_sinusoid_policy")
    rows = module.main(["--trunks", "conv", "--seeds", "0", "--epochs", "1", *variant])
    (row,) = rows
    assert row["selected"] in ("FrequencyShift", "FTSurrogate", "GaussianNoise")
    assert row["reg_scale"] == reg_scale
    assert 0.0 <= row["max_shift_hz"] <= 2.0
    assert len(row["shift_trajectory_hz"]) == 1
    assert row["shift_trajectory_hz"][-1] == pytest.approx(row["max_shift_hz"])
    *runs, summary = capsys.readouterr().out.strip().splitlines()
    assert json.loads(runs[-1]) == row
    assert summary.startswith(f"conv ({row['sampling']}): FrequencyShift selected in")


def test_bench_accuracy_paired_differences_pair_seeds(bench):
    """Differences are taken seed by seed, against earlier baselines only."""
    module = bench("bench_accuracy")
    rows = [
        {"method": m, "seed": s, "balanced_accuracy": v}
        for m, s, v in [
            ("none", 0, 0.5),
            ("none", 1, 0.9),
            ("augnet", 0, 0.6),
            ("augnet", 1, 0.8),
            ("augnet", 2, 0.7),  # no none for seed 2: not paired
        ]
    ]
    paired = module.paired_differences(rows, ["none", "augnet"])
    assert list(paired) == ["augnet - none"]
    stats = paired["augnet - none"]
    assert stats["seeds"] == [0, 1] and stats["n"] == 2 and stats["wins"] == 1
    assert stats["mean"] == pytest.approx(0.0)
    assert stats["std"] == pytest.approx(0.1 * 2**0.5)
    # the main job's paired statistics, one home (study/comparison.py)
    assert stats["median"] == pytest.approx(0.0)
    assert (stats["ties"], stats["losses"]) == (0, 1)
    assert stats["p_value"] == pytest.approx(1.0)  # one win, one loss
    assert module.format_paired(paired).count("augnet - none") == 1


def test_bench_accuracy_merge_pools_seeds_and_refuses_repeats(bench, tmp_path):
    module = bench("bench_accuracy")

    def run(name, seeds):
        rows = [
            {
                "method": m,
                "seed": s,
                "balanced_accuracy": 0.5 + 0.1 * s,
                "kappa": 0.4,
                "macro_f1": 0.4,
                "train_time_s": 10.0,
            }
            for s in seeds
            for m in ("none", "augnet")
        ]
        path = tmp_path / name
        payload = {
            "benchmark": "bench_accuracy",
            "command": [name],
            "settings": {"seeds": seeds, "n_subjects": 3, "lr": 1e-3},
            "results": {"per_seed": rows},
        }
        path.write_text(json.dumps(payload))
        return path

    a, b = run("a.json", [0, 1]), run("b.json", [2])
    merged = json.loads(module.merge([a, b], tmp_path / "out").read_text())
    assert merged["summary"]["augnet"]["balanced_accuracy"]["n"] == 3
    assert merged["paired"]["augnet - none"]["seeds"] == [0, 1, 2]
    assert len(merged["runs"]) == 2
    assert (tmp_path / "out" / "bench_accuracy_merged.png").is_file()
    with pytest.raises(ValueError, match="seed 0 of 'none' is in several"):
        module.merge([a, a], tmp_path / "out")


def test_compare_op_counts_counts_compiled_launches(bench):
    """--compile: the launches of the eager and compiled steps, counted the
    same way (aot_eager: no C++ compiler, no kernel generated), and their
    table with each model's ratio to the trunk."""
    module = bench("compare_op_counts")
    models = ("trunk", "mixture")
    counts = module.count_compiled("aot_eager", 4, n_times=600, models=models)
    assert set(counts) == set(models)
    for c in counts.values():
        for how in ("eager", "compiled"):
            assert c[how]["launches"] == c[how]["aten"] + c[how]["fused"] > 0
        assert c["compiled"]["fused"] == 0
    assert counts["mixture"]["eager"]["launches"] > counts["trunk"]["eager"]["launches"]
    table = module.compiled_table({"HEAD": {"compiled": counts}}).splitlines()
    assert "compiled/trunk" in table[0] and len(table) == 3
    assert table[1].split()[:2] == ["HEAD", "trunk"] and table[1].endswith("1.00x")


def test_compare_op_counts_counts_revisions_side_by_side(bench, tmp_path, capsys):
    """The working tree and HEAD (through a git worktree), each counted in a
    subprocess that imports that tree's package."""
    import shutil
    import subprocess

    root = BENCH_DIR.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("needs git and a git checkout (HEAD is checked out)")
    module = bench("compare_op_counts")
    small = ["--batch", "4", "--n-times", "600", "--out", str(tmp_path / "c.json")]
    results = module.main([".", "HEAD", *small])
    assert set(results) == {".", "HEAD"}
    for counts in results.values():
        for sampling in ("mixture", "sampled"):
            c = counts[sampling]
            assert c["profiler_aten_events"] > c["aten_ops"] > c["kernels"] > 0
    assert results["."]["mixture"]["package"] == str(root / "braindecode_augnet")
    assert results["HEAD"]["mixture"]["package"] != results["."]["mixture"]["package"]
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "braindecode_augnet"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if not dirty:  # the same package: the same counts
        assert (
            results["HEAD"]["mixture"]["aten_ops"]
            == results["."]["mixture"]["aten_ops"]
        )
    table = capsys.readouterr().out
    assert "first/this" in table and "1.00x" in table
    assert json.loads((tmp_path / "c.json").read_text()).keys() == {".", "HEAD"}
    with pytest.raises(RuntimeError, match="git worktree add no-such-revision"):
        module.count_revision("no-such-revision", batch=2, n_times=600)


def test_compare_op_counts_breakdown_places_every_kernel(bench, tmp_path, capsys):
    """``--breakdown``: each kernel of the counted step in one place, the
    trunk's and the augmentation's apart, the totals those of count_step."""
    module = bench("compare_op_counts")
    small = ["--batch", "4", "--n-times", "600"]
    found = module.main(["--breakdown", *small, "--out", str(tmp_path / "b.json")])
    for sampling in ("mixture", "sampled"):
        where = found[sampling]
        total = module.count_step(sampling, batch=4, n_times=600)["kernels"]
        assert sum(where.values()) == total
        assert where["forward: trunk"] > 0 and where["backward: AccumulateGrad"] > 0
        assert where["forward: _LayersPolicy.forward"] > 0
        assert where["backward: _LayersPolicyBackward"] > 0
    assert (
        f"mixture: {sum(found['mixture'].values())} kernels" in capsys.readouterr().out
    )
    assert json.loads((tmp_path / "b.json").read_text()) == found


def test_restart_with_malloc_settings(bench, monkeypatch):
    """The timing scripts restart once with glibc's memory kept by the
    process, unless asked not to or already done."""
    common = bench("_common")
    calls = []
    monkeypatch.setattr(common.os, "execve", lambda *args: calls.append(args))
    monkeypatch.setattr(common.platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.delenv(common._RESTARTED, raising=False)
    for name in common.MALLOC_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert not common.memory_kept()
    for opt_out in ("--system-malloc", "--system"):  # and its abbreviation
        common.restart_with_malloc_settings(["-X", "importtime", "b.py", opt_out])
    assert calls == []
    common.restart_with_malloc_settings(["-X", "importtime", "b.py", "--quick"])
    ((executable, argv, env),) = calls
    assert argv[1:] == ["-X", "importtime", "b.py", "--quick"]  # options kept
    assert all(env[name] == value for name, value in common.MALLOC_SETTINGS.items())
    assert env[common._RESTARTED] == "1"
    monkeypatch.setenv(common._RESTARTED, "1")
    common.restart_with_malloc_settings(["b.py"])
    assert len(calls) == 1  # restarted once already: no loop
    monkeypatch.delenv(common._RESTARTED)
    for name, value in common.MALLOC_SETTINGS.items():
        monkeypatch.setenv(name, value)
    common.restart_with_malloc_settings(["b.py"])
    assert len(calls) == 1  # already set
    assert common.memory_kept()
    assert not set(common.system_malloc_env()) & set(common.MALLOC_SETTINGS)


def test_device_scripts_are_valid_bash():
    """The GPU checks prepared for a lent machine parse (they run there)."""
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    for name in ("device_wheels.sh", "device_check.sh", "device_accuracy.sh"):
        script = BENCH_DIR.parent / "scripts" / name
        subprocess.run(["bash", "-n", str(script)], check=True)


@pytest.mark.parametrize(
    "name, kept", [("device_check.sh", "step_b64"), ("device_accuracy.sh", "accuracy")]
)
def test_device_scripts_refuse_an_earlier_calls_output(tmp_path, name, kept):
    """A second call into the same OUT stops before running anything: a
    skipped step or an unfinished seed would leave the earlier call's
    results there, read (or merged) as this call's."""
    import os
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    earlier = tmp_path / kept / "scores.json"
    earlier.parent.mkdir()
    earlier.write_text("{}")
    env = {**os.environ, "OUT": str(tmp_path), "DEVICE": "cpu"}
    done = subprocess.run(
        ["bash", str(BENCH_DIR.parent / "scripts" / name)],
        cwd=BENCH_DIR.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "holds an earlier call's" in done.stderr
    assert "pass a new or empty OUT" in done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted([kept, "scores.json"])


def test_benchmarks_are_a_package_without_path_hacks():
    """Every script imports its siblings through the package (no
    ``sys.path.insert``) and refuses, with the command to use, to run by path."""
    scripts = sorted(BENCH_DIR.glob("*.py"))
    assert (BENCH_DIR / "__init__.py") in scripts
    for script in scripts:
        source = script.read_text()
        # only the op counter's child puts a revision's library first
        inserts = re.findall(r"sys\.path\.insert\(0, (.*)\)", source)
        assert set(inserts) <= {"str(args.tree)"}, script.name
        assert not re.search(r"^import _common", source, re.M), script.name
        assert "python benchmarks/" not in source, script.name
    readme = (BENCH_DIR / "README.rst").read_text()
    assert "python benchmarks/" not in readme
    assert "python -m benchmarks.bench_transforms" in readme


def test_benchmark_runs_as_a_module_and_not_by_path(bench):
    import subprocess

    common = bench("_common")
    command = common.module_command("run_all", "--help")
    assert command[1:3] == ["-m", "benchmarks.run_all"]
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "--scripts" in done.stdout
    by_path = subprocess.run(
        [sys.executable, str(BENCH_DIR / "run_all.py")],
        cwd=common.ROOT,
        capture_output=True,
        text=True,
    )
    assert by_path.returncode != 0
    assert "python -m benchmarks.run_all" in by_path.stderr


def test_window_options_are_shared(bench):
    """--batch and --n-times come from one place, with each script's defaults."""
    common = bench("_common")
    for name in ("bench_transforms", "bench_training_step"):
        source = (BENCH_DIR / f"{name}.py").read_text()
        assert "C.add_window_arguments(parser)" in source
    parser = common.add_window_arguments(common.base_parser("x"), 64, 3000)
    args = parser.parse_args(["--batch", "4"])
    assert (args.batch, args.n_times) == (4, 3000)


# ------------------------------------------------- options checked up front
class _WorkStarted(Exception):
    """Raised in place of the work: the script got past its checks."""


def _start_work(*args, **kwargs):
    raise _WorkStarted


@pytest.fixture
def no_work(bench, monkeypatch):
    """Scripts whose set-up (the start of the work) raises _WorkStarted;
    run_all's children and compare_op_counts' counts likewise."""
    common = bench("_common")
    monkeypatch.setattr(common, "setup", _start_work)
    monkeypatch.setattr(
        bench("run_all"), "subprocess", types.SimpleNamespace(run=_start_work)
    )
    monkeypatch.setattr(bench("compare_op_counts"), "count_revision", _start_work)
    return common


def _refused(main, argv, capsys):
    """The argparse error (exit 2) of ``main(argv)``."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "extra", "message"),
    [
        ("bench_transforms", ["--batch", "0"], "--batch: must be an integer >= 1"),
        ("bench_transforms", ["--n-times", "-2"], "--n-times: must be an integer"),
        ("bench_transforms", ["--threads", "0"], "--threads: must be an integer"),
        ("bench_transforms", ["--repeats", "-3"], "--repeats: must be an integer"),
        ("bench_transforms", ["--warmup", "-1"], "--warmup: must be an integer >= 0"),
        ("bench_transforms", ["--magnitude", "5"], "--magnitude: must be a number in"),
        ("bench_transforms", ["--device", "gpu"], "--device: unknown device 'gpu'"),
        ("bench_transforms", ["--only", "signflip"], "invalid choice: 'signflip'"),
        ("bench_transforms", ["--quick"], "--quick: not allowed with argument --smoke"),
        ("bench_training_step", ["--n-windows", "0"], "--n-windows: must be"),
        ("bench_training_step", ["--chunk", "-1"], "--chunk: must be an integer"),
        ("bench_training_step", ["--n-copies", "0"], "--n-copies: must be"),
        ("bench_scaling", ["--axes", "batch", "Batch"], "invalid choice: 'Batch'"),
        ("bench_scaling", ["--axes"], "--axes: expected at least one argument"),
        ("bench_accuracy", ["--n-copies", "-1"], "--n-copies: must be an integer"),
        ("bench_accuracy", ["--epochs", "0"], "--epochs: must be an integer >= 1"),
        ("bench_accuracy", ["--n-seeds", "-1"], "--n-seeds: must be an integer"),
        ("bench_accuracy", ["--n-subjects", "0"], "--n-subjects: must be"),
        ("bench_accuracy", ["--n-hours", "nan"], "--n-hours: must be a finite"),
        ("bench_accuracy", ["--lr", "-1"], "--lr: must be a number > 0"),
        ("bench_accuracy", ["--batch-size", "0"], "--batch-size: must be"),
        ("bench_accuracy", ["--methods"], "--methods: expected at least one"),
        ("bench_planted", ["--n-seeds", "-1"], "--n-seeds: must be an integer"),
        ("bench_planted", ["--min-weight", "50"], "--min-weight: must be a number"),
        ("bench_planted", ["--aug-lr-factor", "-1"], "--aug-lr-factor: must be"),
        ("run_all", ["--scripts", "bench_transform"], "invalid choice"),
        ("run_all", ["--scripts", "_common"], "invalid choice: '_common'"),
        ("run_all", ["--threads", "0"], "--threads: must be an integer >= 1"),
    ],
)
def test_bad_options_are_argparse_errors_before_any_work(
    bench, no_work, tmp_path, capsys, name, extra, message
):
    """Each bad value is refused by argparse (exit 2, the option named),
    not replaced by a default, nor found by a raw error after the work."""
    err = _refused(bench(name).main, _smoke_args(tmp_path, *extra), capsys)
    assert message in err
    assert not any(tmp_path.iterdir())  # nothing written


def test_cuda_refused_up_front_without_cuda(bench, no_work, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is available")
    for name in ("bench_transforms", "run_all"):  # run_all: before any child
        err = _refused(
            bench(name).main, _smoke_args(tmp_path, "--device", "cuda"), capsys
        )
        assert "CUDA is not available" in err


def test_option_types_accept_their_ranges(bench):
    common = bench("_common")
    assert common.positive_int("3") == 3
    assert common.nonnegative_int("0") == 0
    assert common.positive_float("1e-3") == pytest.approx(1e-3)
    assert common.fraction("0") == 0 and common.fraction("1") == 1
    assert common.device_name("cpu") == "cpu"
    assert common.pick(common.base_parser("x").parse_args(["--smoke"]), 1, 2, 3) == 3
    args = common.base_parser("x").parse_args([])
    assert common.pick(args, 1, 2, 3, given=7) == 7


def test_run_all_names_scripts_with_or_without_py(bench):
    module = bench("run_all")
    parser_args = []

    def capture(parser, args, name):
        parser_args.append(args.scripts)
        raise _WorkStarted

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module.C, "prepare_output", capture)
        with pytest.raises(_WorkStarted):
            module.main(["--scripts", "bench_scaling.py", "bench_planted"])
    assert parser_args == [["bench_scaling", "bench_planted"]]


def test_study_sinusoid_policy_checks_its_options(bench, capsys):
    main = bench("study_sinusoid_policy").main
    assert "unknown trunk(s) 'cnn'" in _refused(main, ["--trunks", "cnn"], capsys)
    assert "--epochs: must be" in _refused(main, ["--epochs", "0"], capsys)
    assert "--seeds: not a number" in _refused(main, ["--seeds", "0,a"], capsys)


# ------------------------------------------- output checked before the work
@pytest.mark.parametrize(
    "name",
    ["bench_transforms", "bench_training_step", "bench_scaling", "bench_accuracy"]
    + ["bench_planted", "run_all"],
)
def test_out_dir_is_checked_and_created_before_the_work(
    bench, no_work, tmp_path, capsys, name
):
    main = bench(name).main
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = _refused(main, _smoke_args(blocker / "results"), capsys)
    assert "argument --out-dir: cannot write into" in err
    err = _refused(main, _smoke_args(blocker), capsys)
    assert "is a file, not a folder" in err
    fresh = tmp_path / "new" / "deeper"
    with pytest.raises(_WorkStarted):  # created, then the work starts
        main(_smoke_args(fresh))
    assert fresh.is_dir()


def test_merge_and_compare_op_counts_check_their_output_first(
    bench, no_work, tmp_path, capsys
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    merge = bench("bench_accuracy").main
    err = _refused(merge, ["--merge", str(blocker), "--out-dir", str(blocker)], capsys)
    assert "argument --out-dir" in err
    counts = bench("compare_op_counts").main
    err = _refused(counts, [".", "--out", str(blocker / "c.json")], capsys)
    assert "argument --out: " in err and "is a file, not a folder" in err
    err = _refused(counts, [".", "no-such-revision"], capsys)
    assert "'no-such-revision' is not a commit" in err
    with pytest.raises(_WorkStarted):
        counts([".", "--out", str(tmp_path / "new" / "c.json")])
    assert (tmp_path / "new").is_dir()


# ------------------------------------------- recorded results are not lost
def _recorded(tmp_path, name="bench_transforms", **changes):
    """A recorded smoke result of ``name`` (its default configuration)."""
    args = {"quick": False, "smoke": True, "device": "cpu", "repeats": None}
    args.update(warmup=None, seed=0, batch=None, n_times=None, magnitude=0.5)
    args.update(only=None, threads=2, out_dir=str(tmp_path), system_malloc=False)
    args.update(threads_reason="--threads", **changes)
    path = tmp_path / f"{name}_smoke.json"
    path.write_text(json.dumps({"benchmark": name, "args": args, "results": []}))
    return path


def test_a_result_of_another_configuration_is_not_replaced(
    bench, no_work, tmp_path, capsys
):
    main = bench("bench_transforms").main
    path = _recorded(tmp_path)
    before = path.read_text()
    err = _refused(main, _smoke_args(tmp_path, "--only", "SignFlip"), capsys)
    assert "holds a run of another configuration" in err
    assert "only (recorded: None, this run: ['SignFlip'])" in err
    assert "--replace" in err
    err = _refused(main, _smoke_args(tmp_path, "--batch", "8"), capsys)
    assert "batch (recorded: 4, this run: 8)" in err  # the default, resolved
    assert path.read_text() == before
    # the mode's default given by its value is the configuration recorded
    # without it (smoke: batch 4)
    with pytest.raises(_WorkStarted):
        main(_smoke_args(tmp_path, "--batch", "4", "--n-times", "600"))
    assert path.read_text() == before
    # the same configuration (other threads, folder): replaced as before
    with pytest.raises(_WorkStarted):
        main(_smoke_args(tmp_path, "--threads", "1"))
    # told to: replaced
    with pytest.raises(_WorkStarted):
        main(_smoke_args(tmp_path, "--only", "SignFlip", "--replace"))
    # a file that is no result of this script
    path.write_text(json.dumps([{"transform": "SignFlip"}]))
    err = _refused(main, _smoke_args(tmp_path), capsys)
    assert "is not a bench_transforms result" in err


def test_results_rule_in_help_and_configuration(bench, capsys):
    common = bench("_common")
    with pytest.raises(SystemExit):
        bench("bench_scaling").main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--replace" in out and "another configuration" in out
    defaults = {"batch": (64, 64, 4)}
    recorded = common.resolved({"batch": None, "smoke": True}, defaults)
    assert recorded == common.resolved({"batch": 4, "smoke": True}, defaults)
    assert common.resolved({"batch": None, "quick": True}, defaults)["batch"] == 64
    first = common.configuration({"batch": 8, "threads": 1, "only": ("A",)})
    second = common.configuration({"batch": 8, "threads": 4, "only": ["A"]})
    assert first == second  # threads do not count; tuples are lists in JSON
    assert common.differences({"a": 1}, {"a": 2, "b": None}) == [
        "a (recorded: 1, this run: 2)"
    ]


def test_run_all_forwards_replace(bench, tmp_path):
    module = bench("run_all")
    args = module.C.base_parser("x").parse_args(["--replace"])
    assert "--replace" in module._forwarded_args(args, "C.base_parser(...)", 1)
    args = module.C.base_parser("x").parse_args([])
    assert "--replace" not in module._forwarded_args(args, "C.base_parser(...)", 1)


# --------------------------------------------- bench_accuracy --merge checks
def _accuracy_run(tmp_path, name, seeds, **settings):
    rows = [
        {
            "method": m,
            "seed": s,
            "balanced_accuracy": 0.5,
            "kappa": 0.4,
            "macro_f1": 0.4,
            "train_time_s": 10.0,
        }
        for s in seeds
        for m in ("none", "augnet")
    ]
    recorded = {"dataset": "synthetic", "n_subjects": 3, "n_hours": 0.5}
    recorded.update(lr=1e-3, seeds=seeds, data_path=None)
    recorded.update(settings)
    path = tmp_path / name
    payload = {
        "benchmark": "bench_accuracy",
        "command": [name],
        "settings": recorded,
        "results": {"per_seed": rows},
    }
    path.write_text(json.dumps(payload))
    return path


def test_merge_refuses_runs_of_other_data_or_settings(bench, tmp_path, capsys):
    module = bench("bench_accuracy")
    a = _accuracy_run(tmp_path, "a.json", [0])
    b = _accuracy_run(tmp_path, "b.json", [1], n_subjects=4, n_hours=1.0, lr=1e-2)
    with pytest.raises(ValueError, match="cannot be pooled") as exc:
        module.merge([a, b], tmp_path / "out")
    message = str(exc.value)
    assert "lr (first: 0.001, second: 0.01)" in message
    assert "n_hours (first: 0.5, second: 1.0)" in message
    assert "n_subjects (first: 3, second: 4)" in message
    assert "seeds (" not in message
    assert not (tmp_path / "out" / "bench_accuracy_merged.json").exists()
    # seeds, methods and the data's folder may differ
    c = _accuracy_run(tmp_path, "c.json", [2], data_path="/elsewhere")
    merged = json.loads(module.merge([a, c], tmp_path / "out").read_text())
    assert merged["paired"]["augnet - none"]["seeds"] == [0, 2]
    # from the command line: an argparse error
    err = _refused(module.main, ["--merge", str(a), str(b)], capsys)
    assert "argument --merge:" in err and "n_subjects" in err


def test_merge_refuses_files_that_are_no_accuracy_results(bench, tmp_path, capsys):
    module = bench("bench_accuracy")
    other = tmp_path / "bench_transforms_smoke.json"
    other.write_text(json.dumps({"benchmark": "bench_transforms", "results": []}))
    with pytest.raises(ValueError, match="is not a bench_accuracy result"):
        module.merge([other], tmp_path / "out")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(ValueError, match="is not a bench_accuracy result"):
        module.merge([listed], tmp_path / "out")
    a = _accuracy_run(tmp_path, "a.json", [0])
    err = _refused(module.main, ["--merge", str(a), "--methods", "augnet"], capsys)
    assert "--methods would have no effect" in err


# ----------------------------------------------- smoke runs measure nothing
def test_smoke_targets_are_not_evaluated(bench, tmp_path):
    common = bench("_common")
    smoke = common.base_parser("x").parse_args(_smoke_args(tmp_path))
    targets = [common.target("step / trunk", 0.35, 2.0)]
    assert targets[0]["met"] is True
    recorded = common.mode_targets(smoke, targets)
    assert recorded[0]["met"] is None and recorded[0]["value"] == 0.35
    assert recorded[0]["status"] == "smoke (not a measurement)"
    table = common.format_targets(recorded)
    assert "smoke (not a measurement)" in table and "MET" not in table
    path = common.write_results("t", smoke, "cpu", {}, {}, targets)
    assert json.loads(path.read_text())["targets"][0]["met"] is None
    quick = common.base_parser("x").parse_args(["--quick"])
    assert common.mode_targets(quick, targets) == targets


def test_run_all_does_not_count_smoke_targets(bench, tmp_path, capsys, monkeypatch):
    module = bench("run_all")
    child_target = {"name": "x", "value": 0.3, "threshold": 2.0}
    child_target.update(comparison="<=", met=True)

    def child(command, **kwargs):  # writes its result, as a script does
        payload = {"benchmark": "bench_scaling", "targets": [child_target]}
        (tmp_path / "bench_scaling_smoke.json").write_text(json.dumps(payload))
        return module.subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(module.subprocess, "run", child)
    path = module.main(_smoke_args(tmp_path, "--scripts", "bench_scaling"))
    out = capsys.readouterr().out
    assert "targets met" not in out and "smoke (not a measurement)" in out
    payload = json.loads(Path(path).read_text())
    assert payload["targets"][0]["met"] is None
