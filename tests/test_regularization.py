"""Tests of the invariance-promoting regulariser."""

import pytest
import torch

from braindecode_augnet import AugmentationModule, augmentation_regularizer
from braindecode_augnet import transforms as T
from braindecode_augnet.layers import augmentation_layers


def test_value_is_the_norm_of_weighted_strengths():
    module = AugmentationModule(
        [
            [T.GaussianNoise(magnitude=0.2), T.SignFlip(probability=0.3)],
            [T.FrequencyShift(sfreq=100, magnitude=0.4)],
        ]
    )
    expected = torch.tensor([0.5 * 0.2, 0.5 * 0.6, 1.0 * 0.4]).norm()
    torch.testing.assert_close(augmentation_regularizer(module), expected)


def test_gradient_pushes_selected_magnitudes_up():
    module = AugmentationModule(
        [[T.GaussianNoise(magnitude=0.2), T.FTSurrogate(magnitude=0.7)]],
        temperature=1.0,
    )
    (-augmentation_regularizer(module)).backward()
    layer = module.layers[0]
    for tr in layer.transforms:
        assert tr.raw_magnitude.grad < 0  # descent increases the magnitude
    # the weight of the stronger transform increases
    assert layer.alpha.grad[1] < 0 < layer.alpha.grad[0]


def test_involution_regulariser_peaks_at_probability_one_half():
    """The regulariser rewards p up to 0.5, where invariance is largest, and
    can push no further: p and 1 - p give the same invariance."""
    flip = T.SignFlip(probability=0.1)
    module = AugmentationModule([[flip]])
    optimizer = torch.optim.SGD(flip.parameters(), lr=0.5)
    for _ in range(20):
        optimizer.zero_grad()
        (-augmentation_regularizer(module)).backward()
        optimizer.step()
    assert flip.probability.item() == pytest.approx(0.5)
    assert augmentation_regularizer(module).item() == pytest.approx(1.0)


def test_layers_lookup():
    module = AugmentationModule([[T.GaussianNoise()]])
    assert augmentation_layers(module) == list(module.layers)
    with pytest.raises(TypeError, match="no augmentation layers"):
        augmentation_layers(torch.nn.Linear(2, 2))


def test_displacement_scale_rewards_what_changes_the_data():
    """A candidate whose whole range barely changes the data (noise of std
    0.05 on unit-variance signals) wins the paper's regulariser by sitting at
    its cap; weighed by displacement, the regulariser prefers the candidate
    that changes the data, even at a smaller magnitude."""
    noise = T.GaussianNoise(magnitude=1.0, mag_range=(0.0, 0.05), random_state=0)
    phases = T.FTSurrogate(magnitude=0.5, random_state=0)
    module = AugmentationModule([[noise, phases]], temperature=1.0)
    module.layers[0].calibrate(torch.randn(64, 2, 200))
    for scale, favoured in (("magnitude", 0), ("displacement", 1)):
        module.zero_grad()
        (-augmentation_regularizer(module, scale=scale)).backward()
        alpha_grad = module.layers[0].alpha.grad
        assert alpha_grad[favoured] < 0 < alpha_grad[1 - favoured], scale
    displacement = module.layers[0].displacement
    expected = (torch.tensor([0.5 * 1.0, 0.5 * 0.5]) * displacement).norm()
    torch.testing.assert_close(
        augmentation_regularizer(module, scale="displacement"), expected
    )


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="scale must be one of"):
        augmentation_regularizer(AugmentationModule([[T.GaussianNoise()]]), "range")


@pytest.mark.parametrize("sampling", ["mixture", "sampled"])
def test_reuse_forward_gives_the_values_and_gradients_of_a_fresh_regulariser(
    sampling,
):
    """The regulariser of the forward pass's policy (what AugNetClassifier's
    loss uses) has the value and gradients of one computed anew, is read
    once, and does not keep a layer from being copied or pickled."""
    import copy
    import pickle

    def build():
        return AugmentationModule(
            [
                [T.GaussianNoise(random_state=0), T.SignFlip(random_state=1)],
                [T.FTSurrogate(random_state=2), T.TimeReverse(random_state=3)],
            ],
            sampling=sampling,
            random_state=0,
        ).train()

    X = torch.randn(8, 2, 64, generator=torch.Generator().manual_seed(0))
    losses = []
    modules = [build(), build()]
    for module, reuse in zip(modules, (True, False)):
        out = module(X)
        copy.deepcopy(module)  # the forward pass's products are not copied
        pickle.loads(pickle.dumps(module))
        reg = augmentation_regularizer(module, "displacement", reuse_forward=reuse)
        loss = out.pow(2).mean() - reg
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[0], losses[1])
    for p, q in zip(modules[0].parameters(), modules[1].parameters()):
        torch.testing.assert_close(p.grad, q.grad)
    # read once: a second read computes the products anew from the parameters
    layer = modules[0].layers[0]
    with torch.no_grad():
        layer.transforms[0].raw_magnitude.data.fill_(0.9)
    fresh = layer.regularizer_terms(reuse_forward=True)
    torch.testing.assert_close(fresh, layer.weights * layer.magnitudes())


def test_evaluation_leaves_no_forward_products():
    module = AugmentationModule([[T.GaussianNoise(), T.SignFlip()]]).eval()
    module(torch.randn(4, 2, 32))
    layer = module.layers[0]
    assert layer.regularizer_terms(reuse_forward=True).grad_fn is not None
    assert "_forward_products" not in vars(layer) or layer._forward_products is None


def test_reuse_forward_after_a_parameter_update_computes_anew():
    """Products of a forward pass are not reused once an optimizer step has
    changed the parameters (a loss computed before the next forward pass)."""
    module = AugmentationModule([[T.GaussianNoise(), T.FTSurrogate()]]).train()
    X = torch.randn(4, 2, 32)
    module(X).pow(2).mean().backward()  # the products are left unread
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    optimizer.step()
    reg = augmentation_regularizer(module, reuse_forward=True)
    torch.testing.assert_close(reg, augmentation_regularizer(module))
    reg.backward()  # a graph of its own, not the freed one of the forward pass
