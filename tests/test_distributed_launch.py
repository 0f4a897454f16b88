"""AcceleratedAugNetClassifier on two processes (``accelerate launch``, CPU).

The test launches this module as the training script: once with one process
(batches of 16) and once with two (torch.distributed over gloo, batches of 8
per process, so that each step averages the gradients of the same 16
examples). Each rank writes what it learned and predicted; the test compares
the ranks with each other and with the single process. Skipped without
accelerate.

``accelerate launch --cpu --num_processes 2`` starts one process unless an MPI
hostfile is given (accelerate 1.16); ``--multi_gpu`` starts the processes
through torchrun, and ``Accelerator(cpu=True)`` in the script keeps them on
the CPU (gloo): the same command as on several GPUs.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
N_EXAMPLES = 64
N_COPIES = 5
EXAMPLES_PER_STEP = 16


def _classifier(accelerator, batch_size, **kwargs):
    from braindecode_augnet import AcceleratedAugNetClassifier

    from .conftest import Trunk, layers

    params = dict(
        module=Trunk,
        augmentation=layers(),
        n_copies=N_COPIES,
        max_epochs=3,
        lr=1e-2,
        batch_size=batch_size,
        train_split=None,
        iterator_train__shuffle=False,  # the same 16 examples per step
        verbose=0,
        random_state=0,
        accelerator=accelerator,
    )
    params.update(kwargs)
    return AcceleratedAugNetClassifier(**params)


def _worker(out_dir):
    """One rank of the launched run: refuse ADDA, train, predict, save."""
    from accelerate import Accelerator

    from .conftest import toy_data

    accelerator = Accelerator(cpu=True)
    rank, world = accelerator.process_index, accelerator.num_processes
    batch_size = EXAMPLES_PER_STEP // world
    X, y = toy_data(n=N_EXAMPLES)
    try:
        _classifier(accelerator, batch_size, method="adda").fit(X, y)
        refusal = None
    except ValueError as error:
        refusal = str(error)
    torch.manual_seed(0)  # the trunk's initialisation (DDP broadcasts rank 0's)
    clf = _classifier(accelerator, batch_size).fit(X, y)
    proba = clf.predict_proba(X)
    state = {k: v.detach().tolist() for k, v in clf.module_.state_dict().items()}
    out = Path(out_dir)
    clf.save_params(f_params=out / "params.pt")  # every rank calls; rank 0 saves
    result = dict(
        rank=rank,
        world=world,
        refusal=refusal,
        policy_weights=clf.policy_["weight"].tolist(),
        policy_magnitudes=clf.policy_["magnitude"].tolist(),
        history_policy=[epoch["aug_magnitudes"] for epoch in clf.history],
        batches_per_epoch=len(clf.history[-1, "batches"]),
        state=state,
        proba=proba.tolist(),
    )
    (out / f"rank{rank}.json").write_text(json.dumps(result))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(tmp_path, n_processes):
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    out = tmp_path / f"np{n_processes}"
    out.mkdir()
    if n_processes > 1:  # torchrun's processes (gloo: Accelerator(cpu=True))
        processes = ["--multi_gpu", "--main_process_port", str(_free_port())]
    else:
        processes = ["--cpu"]
    command = [
        *([accelerate] if accelerate else [sys.executable, "-m", "accelerate"]),
        "launch",
        *processes,
        "--num_processes",
        str(n_processes),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "-m",
        "tests.test_distributed_launch",
        str(out),
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.pop("ACCELERATE_CONFIG_FILE", None)
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [
        json.loads((out / f"rank{r}.json").read_text()) for r in range(n_processes)
    ], out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    pytest.importorskip("accelerate")
    tmp_path = tmp_path_factory.mktemp("launch")
    return {n: _launch(tmp_path, n) for n in (1, 2)}


def test_two_processes_keep_one_policy_and_model_on_every_rank(runs):
    (rank0, rank1), _ = runs[2]
    assert (rank0["rank"], rank1["rank"], rank0["world"]) == (0, 1, 2)
    # DistributedDataParallel averages every gradient, the policy's included
    assert rank0["state"] == rank1["state"]
    assert rank0["policy_weights"] == rank1["policy_weights"]
    assert rank0["history_policy"] == rank1["history_policy"]
    assert rank0["history_policy"][0] != rank0["history_policy"][-1]  # learned
    # each rank trains on its shard: half the batches of 8, one step per pair
    steps = N_EXAMPLES // EXAMPLES_PER_STEP
    assert rank0["batches_per_epoch"] == rank1["batches_per_epoch"] == steps
    assert runs[1][0][0]["batches_per_epoch"] == steps
    # the predictions of both shards, gathered on every rank
    assert rank0["proba"] == rank1["proba"]
    proba = np.array(rank0["proba"])
    assert proba.shape == (N_EXAMPLES, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_two_processes_learn_what_one_process_learns(runs):
    """The same examples per step: only the augmentations' draws differ
    (each rank draws its own), so the policy and predictions agree to the
    noise of those draws. In the sampled mode (the default) the draws also
    choose which candidate each example trains, so that noise is larger
    than in the mixture (gaps of 0.023 in the weights measured, where the
    mixture stayed within 0.003): tolerance 0.05."""
    (one,), _ = runs[1]
    two = runs[2][0][0]
    np.testing.assert_allclose(two["policy_weights"], one["policy_weights"], atol=0.05)
    np.testing.assert_allclose(
        two["policy_magnitudes"], one["policy_magnitudes"], atol=0.05
    )
    p1, p2 = np.array(one["proba"]), np.array(two["proba"])
    assert np.abs(p1 - p2).max() < 0.05
    assert (p1.argmax(1) == p2.argmax(1)).mean() >= 0.9


def test_copies_averaged_at_inference_as_on_one_process(runs):
    """Rank 0 predicts the first batch with the draws of a single process
    (same seed, fresh generators): the average of its ``n_copies`` copies is
    what a plain AugNetClassifier with the trained weights predicts."""
    from braindecode_augnet import AugNetClassifier

    from .conftest import Trunk, layers, toy_data

    (rank0, _), out = runs[2]
    batch = EXAMPLES_PER_STEP // 2
    X, y = toy_data(n=N_EXAMPLES)
    plain = AugNetClassifier(
        module=Trunk,
        augmentation=layers(),
        n_copies=N_COPIES,
        batch_size=batch,
        train_split=None,
        random_state=0,
    ).initialize()
    plain.load_params(f_params=out / "params.pt")
    expected = plain.predict_proba(X[:batch])
    np.testing.assert_allclose(
        np.array(rank0["proba"])[:batch], expected, rtol=1e-5, atol=1e-6
    )
    single_copy = plain.set_params(n_copies=1).predict_proba(X[:batch])
    assert np.abs(single_copy - expected).max() > 1e-4  # the copies matter


def test_bilevel_methods_are_refused_on_every_rank_with_the_reason(runs):
    for rank in runs[2][0]:
        assert "not supported with Accelerate" in rank["refusal"]
        assert "bilevel training step is not distributed" in rank["refusal"]


if __name__ == "__main__":
    _worker(sys.argv[1])
