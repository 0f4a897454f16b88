"""AugNet under torch.compile: whole graphs and no recompilation per step.

CUDA graphs (``mode="reduce-overhead"``) need one graph per step with fixed
shapes and no host read. Checked here on CPU with ``fullgraph=True`` (a graph
break is an error) and the ``aot_eager`` backend (dynamo and AOTAutograd,
which traces the backward pass too, without inductor's C compiler); the CUDA
graphs themselves are exercised by scripts/device_check.sh on a lent GPU.
"""

import pytest
import torch
import torch.nn.functional as F
from torch._dynamo.utils import counters

from braindecode_augnet import AugNet, augmentation_regularizer, eeg_augmentation

from .conftest import SFREQ, Trunk, toy_data

REG = 0.5
BACKEND = "aot_eager"


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    """No compiled frame or counter shared with other tests."""
    torch.compiler.reset()
    counters.clear()
    yield
    torch.compiler.reset()


def build(sampling, n_copies=4):
    """AugNet with the EEG preset (2 channels: spatial layer and two
    time-frequency layers) around a tiny trunk, drawing from torch's default
    generator (``random_state=None``: a seeded generator breaks the graph)."""
    aug = eeg_augmentation(sfreq=SFREQ, n_chans=2, sampling=sampling)
    torch.manual_seed(0)
    return AugNet(Trunk(n_chans=2, n_outputs=2), aug, n_copies=n_copies)


def batch(n=8):
    X, y = toy_data(n=n)
    return torch.as_tensor(X), torch.as_tensor(y)


def _graphs():
    return counters["stats"]["unique_graphs"]


@pytest.mark.parametrize("sampling", ["mixture", "sampled"])
def test_training_step_is_one_graph_without_recompilation(sampling):
    """Forward pass, NLL and regulariser in one graph (backward by AOT);
    after the first step (which calibrates the layers, hence one
    recompilation at the second), further steps reuse the graph."""
    net = build(sampling).train()
    X, y = batch()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)

    def loss_fn(X, y):
        nll = F.nll_loss(net(X), y)
        return nll - REG * augmentation_regularizer(net, reuse_forward=True)

    compiled = torch.compile(loss_fn, backend=BACKEND, fullgraph=True)
    alpha = [layer.alpha for layer in net.augmentation.layers]
    before = [a.detach().clone() for a in alpha]

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = compiled(X, y)
        loss.backward()
        optimizer.step()
        net.check_deferred_inputs()
        return loss.detach()

    losses = [step(), step()]  # compiles; recompiles once calibrated
    assert all(layer.calibrated for layer in net.augmentation.layers)
    graphs = _graphs()
    with torch._dynamo.config.patch(error_on_recompile=True):
        losses += [step() for _ in range(3)]
    assert _graphs() == graphs
    assert all(torch.isfinite(loss) for loss in losses)
    # the policy's gradients flow through the compiled graph
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in alpha)
    assert any(not torch.equal(a, b) for a, b in zip(alpha, before))


@pytest.mark.parametrize("sampling", ["mixture", "sampled"])
def test_inference_with_copies_is_one_graph_and_seeded_by_torch(sampling):
    """The averaged copies at inference in one graph, reused call after call
    (the deferred input check read between calls, as the estimator does);
    the draws come from torch's default generator, so
    :func:`torch.manual_seed` repeats them."""
    net = build(sampling, n_copies=6).eval()
    X, _ = batch()
    compiled = torch.compile(net, backend=BACKEND, fullgraph=True)

    def predict():
        with torch.no_grad():
            out = compiled(X)
        net.check_deferred_inputs()  # as AugNetClassifier does after a batch
        return out

    torch.manual_seed(1)
    first = predict()
    graphs = _graphs()
    with torch._dynamo.config.patch(error_on_recompile=True):
        torch.manual_seed(1)
        again = predict()
        other = predict()
    assert _graphs() == graphs
    assert first.shape == (8, 2)
    torch.testing.assert_close(first.exp().sum(1), torch.ones(8))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)  # fresh draws at each call


def test_seeded_draws_break_the_graph_rather_than_change():
    """A seeded augmentation keeps its own generator under compilation (the
    same draws as without it): dynamo cannot trace it, so fullgraph refuses."""
    aug = eeg_augmentation(sfreq=SFREQ, n_chans=2, random_state=0)
    net = AugNet(Trunk(n_chans=2, n_outputs=2), aug, n_copies=2).eval()
    X, _ = batch()
    compiled = torch.compile(net, backend=BACKEND, fullgraph=True)
    with torch.no_grad(), pytest.raises(torch._dynamo.exc.Unsupported):
        compiled(X)


def test_input_check_is_deferred_under_compilation():
    """``input_check='auto'`` on CPU checks in forward, a host read that a
    graph cannot hold: compiled, the answer is recorded and raised by
    :meth:`AugNet.check_deferred_inputs`."""
    net = build("mixture").eval()
    X, _ = batch()
    X[0, 0, 0] = float("nan")
    compiled = torch.compile(net, backend=BACKEND, fullgraph=True)
    with torch.no_grad():
        compiled(X)  # no error inside the graph
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.check_deferred_inputs()
    with pytest.raises(ValueError, match="NaN or infinite"):
        net(X)  # eager on CPU: immediate


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need CUDA")
@pytest.mark.parametrize("sampling", ["mixture", "sampled"])
def test_cuda_graphs_train_and_infer_without_recompilation(sampling):
    """``mode="reduce-overhead"`` (inductor and CUDA graphs) on a GPU: the
    training step and the averaged copies, replayed without recompiling and
    without inductor skipping the CUDA graph (scripts/device_check.sh)."""
    device = torch.device("cuda")
    net = build(sampling).to(device).train()
    X, y = (t.to(device) for t in batch())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)

    def loss_fn(X, y):
        nll = F.nll_loss(net(X), y)
        return nll - REG * augmentation_regularizer(net, reuse_forward=True)

    compiled = torch.compile(loss_fn, mode="reduce-overhead", fullgraph=True)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = compiled(X, y)
        loss.backward()
        optimizer.step()
        net.check_deferred_inputs()
        return loss.detach().clone()

    def predict():
        with torch.no_grad():
            out = infer(X).clone()
        net.check_deferred_inputs()
        return out

    losses = [step(), step()]
    with torch._dynamo.config.patch(error_on_recompile=True):
        losses += [step() for _ in range(3)]
    net.eval()
    infer = torch.compile(net, mode="reduce-overhead", fullgraph=True)
    outputs = [predict()]
    with torch._dynamo.config.patch(error_on_recompile=True):
        outputs += [predict() for _ in range(3)]
    assert all(torch.isfinite(loss) for loss in losses)
    assert all(out.shape == (8, 2) for out in outputs)
    assert counters["inductor"]["cudagraph_skips"] == 0
