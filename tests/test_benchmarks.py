"""Smoke tests of the benchmark scripts (tiny sizes, one repeat)."""

import importlib
import json
import sys
from pathlib import Path

import pytest
import torch

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """Import a benchmark script by name (benchmarks/ is not a package)."""
    sys.path.insert(0, str(BENCH_DIR))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCH_DIR))


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
        assert {"ours_fb", "ours_layer_fb", "ours_f", "theirs_f"} <= set(res["timings"])
        assert res["ratio_ours_over_theirs"] > 0
        assert res["memory"]["ours_bytes"] >= 0
    names = [t["name"] for t in payload["targets"]]
    assert "SensorsZRotation: speed-up at batch 2" in names


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
    assert results["inference"]["augnet"]["windows_per_s"] > 0
    assert all(v > 0 for v in results["training_autograd_saved_bytes"].values())
    assert len(payload["targets"]) == 3
    assert all(t["value"] > 0 for t in payload["targets"])


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


def test_run_all_skips_missing_scripts(bench, tmp_path):
    module = bench("run_all")
    path = module.main(_smoke_args(tmp_path, "--scripts", "bench_does_not_exist"))
    payload = json.loads(Path(path).read_text())
    assert payload["mode"] == "smoke"
    assert payload["runs"] == [
        {"script": "bench_does_not_exist.py", "status": "absent"}
    ]


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
    methods = ["none", "fixed", "random", "augerino", "augnet"]
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
    assert len(results["braindecode_fixed_augmentation"]) == 5
    assert Path(results["plot"]).is_file()
    assert Path(results["plot"]).parent == tmp_path
    names = [t["name"] for t in payload["targets"]]
    assert "AugNet - none balanced accuracy" in names


def test_bench_accuracy_fixed_augmentation_augments_batches(bench):
    """The fixed baseline's braindecode transforms run in AugmentedDataLoader."""
    module = bench("bench_accuracy")
    from braindecode.augmentation import AugmentedDataLoader, Transform

    from braindecode_augnet import DifferentiableTransform

    X = torch.randn(8, 2, 300)
    y = torch.randint(0, 5, (8,))
    transforms = module.braindecode_fixed_augmentation(100.0, 0)
    assert not hasattr(module, "fixed_transforms")  # not the package's function
    assert all(isinstance(tr, Transform) for tr in transforms)
    assert not any(isinstance(tr, DifferentiableTransform) for tr in transforms)
    assert all(tr.probability == 0.5 for tr in transforms)
    dataset = torch.utils.data.TensorDataset(X, y)
    loader = AugmentedDataLoader(dataset, transforms=transforms, batch_size=8)
    Xb, yb = next(iter(loader))
    assert Xb.shape == X.shape and torch.equal(yb, y)
    assert not torch.allclose(Xb, X)
