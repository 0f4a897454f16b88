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


# ----------------------------------------------------------------- sequences
class WindowTrunk(nn.Module):
    """Per-window logits (batch, n_outputs, n_windows) of either sequence
    layout, recording the windows it was given."""

    def __init__(self, n_chans=2, n_outputs=3, n_times=40):
        super().__init__()
        self.window = Trunk(n_chans, n_outputs)
        self.n_times = n_times

    def forward(self, x):
        if x.ndim == 3:  # (batch, channels, n_windows * n_times)
            b, c, length = x.shape
            x = x.reshape(b, c, length // self.n_times, self.n_times).transpose(1, 2)
        self.seen = x.detach().clone()
        b, s = x.shape[:2]
        logits = self.window(x.reshape(b * s, *x.shape[2:]))
        return logits.reshape(b, s, -1).transpose(1, 2)


def sequence_augnet(sequence_augmentation="window", **kwargs):
    aug = AugmentationModule(
        [[T.GaussianNoise(magnitude=0.5), T.SignFlip(probability=0.5)]],
        random_state=0,
    )
    return AugNet(
        WindowTrunk(), aug, sequence_augmentation=sequence_augmentation, **kwargs
    )


@pytest.mark.parametrize("sequence_augmentation", ["window", "sequence"])
def test_sequence_output_is_the_per_window_mean_of_the_copies_probabilities(
    sequence_augmentation,
):
    net = sequence_augnet(sequence_augmentation, n_copies=4, copies_per_chunk=None)
    net.eval()
    X = torch.randn(3, 5, 2, 40)  # (batch, n_windows, channels, times)
    torch.manual_seed(5)
    out = net(X)
    assert out.shape == (3, 3, 5)  # (batch, n_classes, n_windows)
    torch.testing.assert_close(out.exp().sum(1), torch.ones(3, 5))
    # the same draws, by hand: copies of whole sequences, windows augmented as
    # one batch of windows, probabilities averaged per window over copies
    net.reset_random_state()
    torch.manual_seed(5)
    tiled = X.repeat(4, 1, 1, 1).reshape(-1, 2, 40)
    if sequence_augmentation == "sequence":
        from braindecode_augnet._random import shared_draws

        with shared_draws(5):
            augmented = net.augmentation(tiled)
    else:
        augmented = net.augmentation(tiled)
    logits = net.trunk(augmented.reshape(12, 5, 2, 40))
    probs = torch.softmax(logits, 1).reshape(4, 3, 3, 5)
    torch.testing.assert_close(out, probs.mean(0).log())


@pytest.mark.parametrize("sequence_augmentation", ["window", "sequence"])
def test_both_sequence_layouts_give_the_same_windows_and_output(
    sequence_augmentation,
):
    X = torch.randn(2, 4, 2, 40)
    outputs, seen = [], []
    for layout in ("windows", "signal"):
        net = sequence_augnet(sequence_augmentation, n_copies=3, window_size=40)
        net.eval()
        torch.manual_seed(0)
        net.trunk.window = Trunk()  # same weights for both layouts
        if layout == "signal":  # (batch, channels, n_windows * times)
            outputs.append(net(X.transpose(1, 2).reshape(2, 2, 160)))
        else:
            outputs.append(net(X))
        seen.append(net.trunk.seen)
    torch.testing.assert_close(outputs[0], outputs[1])
    torch.testing.assert_close(seen[0], seen[1])


@pytest.mark.parametrize(
    "transform",
    [
        lambda: T.SignFlip(probability=0.5),
        lambda: T.TimeReverse(probability=0.5),
        lambda: T.SmoothTimeMask(magnitude=0.1),  # 10 of 40 samples
        lambda: T.GaussianNoise(magnitude=0.5),
        lambda: T.FrequencyShift(sfreq=10.0, magnitude=0.5),
        lambda: T.ChannelsShuffle(magnitude=1.0),
    ],
)
def test_window_draws_differ_within_a_sequence_sequence_draws_do_not(transform):
    """Every window of every sequence holds the same signal: with one draw
    per sequence its augmented windows stay equal, with one draw per window
    they differ."""
    window = torch.randn(3, 40)
    X = window.expand(6, 8, 3, 40).contiguous()  # (batch, n_windows, ch, times)
    seen = {}
    for mode in ("window", "sequence"):
        aug = AugmentationModule([[transform()]], random_state=0)
        net = AugNet(WindowTrunk(3, 2, 40), aug, n_copies=1, sequence_augmentation=mode)
        net.eval()(X)
        seen[mode] = net.trunk.seen
        assert not torch.equal(seen[mode], X)  # augmented
    assert (seen["sequence"] == seen["sequence"][:, :1]).all()
    assert not (seen["sequence"] == seen["sequence"][:1]).all()  # per sequence
    assert not (seen["window"] == seen["window"][:, :1]).all()


def test_sequence_training_copies_and_gradients():
    net = sequence_augnet(n_copies_train=2).train()
    out = net(torch.randn(4, 3, 2, 40))
    assert out.shape == (4, 3, 3)
    nn.functional.nll_loss(out, torch.randint(0, 3, (4, 3))).backward()
    assert net.trunk.window.linear.weight.grad is not None
    assert net.augmentation.layers[0].alpha.grad is not None


def test_bad_sequence_shapes_and_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="sequence_augmentation must be one of"):
        sequence_augnet("recording")
    with pytest.raises(ValueError, match="window_size"):
        sequence_augnet(window_size=0)
    net = sequence_augnet(window_size=40)
    with pytest.raises(ValueError, match=r"not a multiple of 40"):
        net(torch.randn(2, 2, 150))
    with pytest.raises(ValueError, match=r"\(batch, n_windows, channels, 40\)"):
        net(torch.randn(2, 3, 2, 30))
    with pytest.raises(ValueError, match="5-D input"):
        net(torch.randn(2, 3, 2, 40, 1))
    # a single-window trunk given sequences, a sequence trunk given windows
    with pytest.raises(ValueError, match=r"\(2, n_classes, 4\)"):
        make_augnet()(torch.randn(2, 4, 2, 40))
    with pytest.raises(ValueError, match="set window_size"):
        sequence_augnet()(torch.randn(2, 2, 40))


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
