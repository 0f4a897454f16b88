"""Tests of the averaged model AugNet."""

import math

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from braindecode_augnet import AugmentationModule, AugNet
from braindecode_augnet import transforms as T


class Trunk(nn.Module):
    def __init__(self, n_chans=2, n_outputs=3):
        super().__init__()
        self.linear = nn.Linear(n_chans, n_outputs)

    def forward(self, x):
        return self.linear(x.mean(-1))


def make_augnet(**kwargs):
    aug = AugmentationModule(
        [[T.GaussianNoise(magnitude=0.5), T.SignFlip(probability=0.5)]]
    )
    return AugNet(Trunk(), aug, **kwargs)


@pytest.mark.parametrize("n_copies", [1, 2, 7])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_outputs_log_probabilities_for_every_number_of_copies(n_copies, mode):
    net = make_augnet(n_copies=n_copies, n_copies_train=n_copies)
    getattr(net, mode)()
    out = net(torch.randn(5, 2, 40))
    assert out.shape == (5, 3)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(5))


def test_output_is_the_mean_of_the_copies_probabilities():
    net = make_augnet(n_copies=4).eval()
    X = torch.randn(3, 2, 40)
    torch.manual_seed(5)
    out = net(X)
    torch.manual_seed(5)
    tiled = X.repeat(4, 1, 1)
    probs = torch.softmax(net.trunk(net.augmentation(tiled)), -1).reshape(4, 3, -1)
    torch.testing.assert_close(out, probs.mean(0).log())


def test_chunked_copies_give_the_same_distribution_and_no_augmentation_is_exact():
    aug = AugmentationModule([[T.GaussianNoise(magnitude=0.0)]])
    whole = AugNet(Trunk(), aug, n_copies=6).eval()
    chunked = AugNet(whole.trunk, aug, n_copies=6, copies_per_chunk=4).eval()
    X = torch.randn(3, 2, 40)
    torch.testing.assert_close(whole(X), chunked(X))
    torch.testing.assert_close(whole(X), torch.log_softmax(whole.trunk(X), -1))


def test_copies_in_training_and_gradients():
    net = make_augnet(n_copies=20, n_copies_train=2).train()
    assert net.current_n_copies == 2
    net(torch.randn(4, 2, 40)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads)
    assert net.eval().current_n_copies == 20


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_copies"):
        make_augnet(n_copies=0)
    with pytest.raises(ValueError, match="n_copies_train"):
        make_augnet(n_copies_train=1.5)
    with pytest.raises(ValueError, match="copies_per_chunk"):
        make_augnet(copies_per_chunk=0)

    class Cropped(nn.Module):
        def forward(self, x):
            return x

    net = AugNet(Cropped(), [[T.GaussianNoise()]])
    with pytest.raises(ValueError, match="n_classes"):
        net(torch.randn(2, 2, 10))


def test_log_of_n_copies():
    net = make_augnet(n_copies=3).eval()
    out = net(torch.randn(2, 2, 10))
    assert torch.isfinite(out).all() and (out <= math.log(1.0) + 1e-6).all()


def test_weight_init_idiom_apply_fn_reaches_every_submodule():
    """``model.apply(init_fn)`` is torch's recursive apply (it used to fail
    with "missing 'params'" on models holding a transform)."""
    model = make_augnet()
    seen = []

    def init_fn(module):
        seen.append(type(module).__name__)
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.weight)

    assert model.apply(init_fn) is model
    assert {"Linear", "GaussianNoise", "SignFlip", "AugNet"} <= set(seen)
    assert torch.count_nonzero(model.trunk.linear.weight) == 0


def test_input_check_immediate_deferred_and_auto():
    X = torch.randn(4, 2, 40)
    X[2, 1, 5] = float("nan")
    for check in ("immediate", "auto"):  # auto: immediate on CPU
        with pytest.raises(ValueError, match="NaN or infinite"):
            make_augnet(input_check=check)(X)
    net = make_augnet(input_check="deferred")
    net(X)  # recorded on the device, not read
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.check_deferred_inputs()
    net.check_deferred_inputs()  # read once
    net(torch.randn(4, 2, 40))
    net.check_deferred_inputs()  # finite
    with pytest.raises(ValueError, match="input_check must be one of"):
        make_augnet(input_check="later")


def test_models_pickled_before_input_check_load():
    import pickle

    net = make_augnet()
    del net.__dict__["input_check"], net.__dict__["_non_finite"]
    loaded = pickle.loads(pickle.dumps(net))
    assert loaded.input_check == "auto"
    loaded.check_deferred_inputs()


def _eeg_augnet(sampling, device="cpu"):
    from braindecode_augnet import augmentation_layers, eeg_augmentation

    aug = eeg_augmentation(
        sfreq=100.0, ch_names=["Fpz-Cz", "Pz-Oz"], sampling=sampling, random_state=0
    )
    net = AugNet(Trunk(n_outputs=5), aug, n_copies=4, input_check="deferred")
    net = net.to(device)
    for layer in augmentation_layers(net):
        layer.grouping = "full"  # what 'auto' picks off CPU
    return net


def _training_step(net, X, y):
    from braindecode_augnet import augmentation_regularizer

    loss = nn.functional.nll_loss(net(X), y) - 0.5 * augmentation_regularizer(net)
    loss.backward()


class _HostReads(TorchDispatchMode):
    """Record the aten ops that read a tensor value on the host."""

    def __init__(self):
        super().__init__()
        self.reads, self.n_ops = [], 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.n_ops += 1
        if func.overloadpacket in (
            torch.ops.aten.item,
            torch.ops.aten._local_scalar_dense,
        ):
            self.reads.append(str(func))
        return func(*args, **(kwargs or {}))


def _host_read(*args, **kwargs):
    raise AssertionError("a tensor value was read on the host")


def _forbid_python_host_reads(patch):
    for name in ("item", "tolist", "__bool__", "__float__", "__int__"):
        patch.setattr(torch.Tensor, name, _host_read)


@pytest.mark.parametrize("sampling", ["mixture", "sampled"])
def test_training_and_inference_read_nothing_on_the_host(sampling, monkeypatch):
    """CPU proxy of CUDA's sync debug mode: nothing reads a tensor value on
    the host in the forward and backward of a training step (EEG preset,
    batch 64) nor in inference, with the settings that 'auto' picks off
    CPU."""
    net = _eeg_augnet(sampling).train()
    X, y = torch.randn(64, 2, 3000), torch.randint(0, 5, (64,))

    with monkeypatch.context() as patch:
        _forbid_python_host_reads(patch)
        with _HostReads() as ops:  # aten-level reads
            _training_step(net, X, y)
            with torch.no_grad():
                net.eval()(X[:8])
    assert ops.n_ops > 100  # the mode saw the step
    assert ops.reads == []
    X[3, 1, 7] = float("inf")
    net(X)  # the finite check was deferred, not dropped
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.check_deferred_inputs()


def test_the_host_read_proxy_sees_the_reads_it_forbids(monkeypatch):
    net = _eeg_augnet("sampled").train()
    net.input_check = "immediate"
    X = torch.randn(64, 2, 300)
    with _HostReads() as ops:
        net(X)
    assert ops.reads  # the immediate finite check reads its answer
    net.input_check = "deferred"
    for layer in net.augmentation.layers:
        layer.grouping = "split"
    with monkeypatch.context() as patch:  # the sizes of the groups
        _forbid_python_host_reads(patch)
        with pytest.raises(AssertionError, match="read on the host"):
            net(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("sampling", ["mixture", "sampled"])
def test_no_host_synchronisation_on_cuda(sampling):
    net = _eeg_augnet(sampling, "cuda").train()
    for layer in net.augmentation.layers:
        layer.grouping = "auto"
    net.input_check = "auto"
    X = torch.randn(64, 2, 3000, device="cuda")
    y = torch.randint(0, 5, (64,), device="cuda")
    _training_step(net, X, y)  # warm-up: generators, kernels
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        _training_step(net, X, y)
        with torch.no_grad():
            net.eval()(X)
            net.n_copies = 1
            net(X[:1])  # one draw per layer: multinomial's host check
    finally:
        torch.cuda.set_sync_debug_mode("default")
    net.check_deferred_inputs()
