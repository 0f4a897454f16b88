"""Bilevel automatic data augmentation: ADDA and CADDA.

The baselines AugNet is compared against in the paper: an augmentation
policy searched by gradient descent on a *validation* loss, as in DARTS-style
differentiable augmentation search (DADA, Li et al. 2020; ADDA and its
class-wise variant CADDA, Rommel et al. 2022). The policy is made of the
package's augmentation layers (softmax-relaxed selection of candidate
transforms, learned magnitudes and involution probabilities), and is plain
data augmentation: it augments the training batches only, the model predicts
on the bare inputs.

- :class:`BilevelPolicy`: the policy, one :class:`~.AugmentationModule`
  shared by every class (ADDA) or one per class (CADDA);
- :func:`unrolled_hypergradient`: the gradient of the validation loss after
  one virtual SGD step of the trunk on augmented training data (exact
  second-order, through :func:`torch.func.functional_call`);
- :class:`UnrolledPolicySearch`: the policy's optimiser and held-out
  batches, used by ``AugNetClassifier(method='adda' | 'cadda')``;
- :class:`ADDAMethod`, :class:`CADDAMethod`: the strategies of those
  ``method=`` values.
"""

import copy

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from skorch.dataset import unpack_data
from skorch.utils import to_device, to_numpy
from torch import nn
from torch.func import functional_call

from .._random import seed_stream
from ..analysis.policy import fixed_transforms, policy_table
from ..layers import AugmentationModule, apply_grouped, unwrap_module
from .base import Method, update_in_place

__all__ = [
    "ADDAMethod",
    "BilevelPolicy",
    "CADDAMethod",
    "UnrolledPolicySearch",
    "unrolled_hypergradient",
]


class BilevelPolicy(nn.Module):
    """An augmentation policy searched by bilevel optimisation (ADDA, CADDA).

    Holds one :class:`~.AugmentationModule` for every class (CADDA, class-wise)
    or one for all (ADDA). Its :meth:`augment`, which :class:`~.AugNet`
    calls in its forward pass, is the identity: the policy is ordinary data
    augmentation, applied by the training step through
    :meth:`augment_batch`, which needs the labels; the model predicts on the
    bare inputs.

    Parameters
    ----------
    policies : list of AugmentationModule
        One module (ADDA), or one per class in the order of the class indices
        (CADDA).

    References
    ----------
    .. [1] Rommel, C., Moreau, T., Paillard, J., & Gramfort, A. (2022). CADDA:
       Class-wise automatic differentiable data augmentation for EEG signals.
       International Conference on Learning Representations.
    .. [2] Li, Y., Hu, G., Wang, Y., Hospedales, T., Robertson, N. M., &
       Yang, Y. (2020). DADA: Differentiable automatic data augmentation.
       European Conference on Computer Vision.

    Examples
    --------
    >>> import torch
    >>> from braindecode_augnet.transforms import GaussianNoise, SignFlip
    >>> policy = BilevelPolicy(
    ...     [AugmentationModule([[SignFlip(), GaussianNoise()]]) for _ in range(2)]
    ... )
    >>> policy.class_wise
    True
    >>> X, y = torch.randn(6, 2, 50), torch.tensor([0, 1, 0, 1, 1, 0])
    >>> policy.augment(X) is X  # the forward pass: no augmentation
    True
    >>> policy.augment_batch(X, y).shape  # each example by its class's policy
    torch.Size([6, 2, 50])
    """

    def __init__(self, policies):
        super().__init__()
        if isinstance(policies, nn.Module) or not isinstance(policies, (list, tuple)):
            raise TypeError(
                "BilevelPolicy takes a list of AugmentationModule (one for all "
                f"classes, or one per class), got {type(policies).__name__}."
            )
        if not policies:
            raise ValueError("BilevelPolicy needs at least one policy, got none.")
        for policy in policies:
            if not isinstance(policy, AugmentationModule):
                raise TypeError(
                    "BilevelPolicy takes AugmentationModule policies, got "
                    f"{type(policy).__name__}."
                )
        self.policies = nn.ModuleList(policies)

    @property
    def class_wise(self):
        """Whether each class has its own policy (CADDA)."""
        return len(self.policies) > 1

    def augment(self, X):
        """The identity: the policy is not applied in the forward pass."""
        return X

    def augment_batch(self, X, y=None):
        """Augment a training batch, each example by its class's policy.

        Parameters
        ----------
        X : torch.Tensor
            Batch ``(batch, channels, times)``.
        y : torch.Tensor | None
            Class indices ``(batch,)``, needed by a class-wise policy.

        Returns
        -------
        torch.Tensor
            The augmented batch, differentiable with respect to the policy's
            parameters (relaxed selection in training mode, one candidate
            drawn per example in evaluation mode).
        """
        if not self.class_wise:
            return self.policies[0].augment(X)
        if y is None:
            raise ValueError(
                "A class-wise policy (CADDA) augments each example by its class's "
                "policy: pass the class indices y."
            )
        y = torch.as_tensor(y, device=X.device).long()
        n_classes = len(self.policies)
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
            raise ValueError(
                f"y must hold class indices in [0, {n_classes}) for this policy of "
                f"{n_classes} classes, got values in [{int(y.min())}, {int(y.max())}]."
            )

        def apply(k, part, index):
            return self.policies[k].augment(part)

        return apply_grouped(X, y, n_classes, apply)

    def augmentation_layers(self):
        """The layers of every policy, class after class."""
        return [layer for policy in self.policies for layer in policy.layers]

    def policy_table(self, classes=None):
        """The learned policies as one table, with a ``class`` column.

        Parameters
        ----------
        classes : sequence | None
            Label of each policy's class (e.g. ``classes_`` of a fitted
            classifier); ``None``: the class indices. An ADDA policy (one for
            every class) has ``class`` set to ``'all'``.

        Returns
        -------
        pandas.DataFrame
            The rows of :func:`~.policy_table` for each policy, ``class``
            first.
        """
        tables = []
        for k, policy in enumerate(self.policies):
            table = policy_table(policy)
            if not self.class_wise:
                label = "all"
            else:
                label = k if classes is None else classes[k]
            table.insert(0, "class", [label] * len(table))
            tables.append(table)
        return pd.concat(tables, ignore_index=True)

    def fixed_transforms(self, min_weight=0.0):
        """Frozen copies of the learned transforms of each policy.

        Parameters
        ----------
        min_weight : float
            As in :func:`~.fixed_transforms`.

        Returns
        -------
        list of list of DifferentiableTransform
            One list per policy (per class for CADDA), each ready for
            :class:`braindecode.augmentation.AugmentedDataLoader` (see
            :func:`~.fixed_transforms`).
        """
        return [fixed_transforms(policy, min_weight) for policy in self.policies]


def unrolled_hypergradient(
    trunk, augment, loss_fn, train_batch, valid_batch, unroll_lr, policy_params
):
    """Gradient of the validation loss after one virtual step of the trunk.

    With ``w`` the trunk's parameters and ``theta`` the policy's, the virtual
    step is ``w' = w - unroll_lr * grad_w L_train(w, augment(X_train))`` and
    the hypergradient is the exact gradient of ``L_valid(w')`` with respect
    to ``theta``, through ``w'`` (second order: the trunk runs through
    :func:`torch.func.functional_call` with ``w'``). This is the one-step
    unrolled approximation of DARTS, used by DADA and ADDA/CADDA; DARTS
    approximates the Hessian-vector product by finite differences instead.
    The trunk's parameters and buffers are not modified (batch-norm running
    statistics are updated on copies).

    Parameters
    ----------
    trunk : torch.nn.Module
        Network mapping a batch to logits.
    augment : callable
        ``augment(X, y)`` -> augmented ``X``, differentiable with respect to
        ``policy_params``.
    loss_fn : callable
        ``loss_fn(logits, y)`` -> scalar loss.
    train_batch, valid_batch : tuple of torch.Tensor
        ``(X, y)`` of the virtual step and of the validation loss.
    unroll_lr : float
        Learning rate of the virtual SGD step (``> 0``).
    policy_params : list of torch.nn.Parameter
        The parameters to differentiate with respect to.

    Returns
    -------
    valid_loss : torch.Tensor
        The validation loss after the virtual step (detached).
    grads : list of torch.Tensor
        Its gradient with respect to each of ``policy_params`` (zeros for
        parameters it does not depend on).

    References
    ----------
    .. [1] Liu, H., Simonyan, K., & Yang, Y. (2019). DARTS: Differentiable
       architecture search. International Conference on Learning
       Representations.
    .. [2] Li, Y., Hu, G., Wang, Y., Hospedales, T., Robertson, N. M., &
       Yang, Y. (2020). DADA: Differentiable automatic data augmentation.
       European Conference on Computer Vision.
    """
    X_train, y_train = train_batch
    X_valid, y_valid = valid_batch
    params = dict(trunk.named_parameters())
    names = [name for name, p in params.items() if p.requires_grad]
    buffers = {name: b.clone() for name, b in trunk.named_buffers()}
    logits = functional_call(trunk, (params, buffers), (augment(X_train, y_train),))
    train_loss = loss_fn(logits, y_train)
    grads = torch.autograd.grad(
        train_loss, [params[n] for n in names], create_graph=True, allow_unused=True
    )
    stepped = dict(params)
    for name, grad in zip(names, grads):
        if grad is not None:
            stepped[name] = params[name] - unroll_lr * grad
    valid_loss = loss_fn(
        functional_call(trunk, (stepped, buffers), (X_valid,)), y_valid
    )
    hyper = torch.autograd.grad(valid_loss, policy_params, allow_unused=True)
    hyper = [
        torch.zeros_like(p) if g is None else g for p, g in zip(policy_params, hyper)
    ]
    return valid_loss.detach(), hyper


class _Cycle:
    """Endless batches of a data loader, restarted at each pass; not pickled."""

    def __init__(self, loader):
        self.loader = loader
        self._iterator = None

    def __next__(self):
        if self._iterator is None:
            self._iterator = iter(self.loader)
        try:
            return next(self._iterator)
        except StopIteration:
            self._iterator = iter(self.loader)
        try:
            return next(self._iterator)
        except StopIteration:
            raise ValueError(
                "The policy's held-out data gives no batch (fewer examples than "
                "batch_size with drop_last=True): hold out more examples "
                "(policy_valid_fraction) or use a smaller batch_size."
            ) from None

    def __getstate__(self):
        return {"loader": None, "_iterator": None}


class UnrolledPolicySearch:
    """One bilevel step per training batch: policy first, then the trunk.

    :meth:`policy_step` moves the policy along :func:`unrolled_hypergradient`
    on a held-out batch; :meth:`augment` then draws the augmented batch the
    trunk is trained on (one candidate per example, as data augmentation
    does: not the relaxed mixture, which is no augmented signal).

    Parameters
    ----------
    policy : BilevelPolicy
        The policy searched.
    optimizer : torch.optim.Optimizer
        Optimiser of the policy's parameters.
    unroll_lr : float
        Learning rate of the virtual step.
    """

    def __init__(self, policy, optimizer, unroll_lr):
        self.policy = policy
        self.optimizer = optimizer
        self.unroll_lr = unroll_lr
        self.valid_batches = None

    @property
    def optimizer_state(self):
        """The policy optimiser's ``state_dict`` (kept when pickled)."""
        if self.optimizer is None:
            return self._optimizer_state
        return self.optimizer.state_dict()

    def __getstate__(self):
        # the policy and its optimiser belong to the model they were built
        # for: a copy keeps the optimiser's state only, to be rebuilt on the
        # copy's policy (see AugNetClassifier)
        return {
            "policy": None,
            "optimizer": None,
            "_optimizer_state": self.optimizer_state,
            "unroll_lr": self.unroll_lr,
            "valid_batches": None,
        }

    def set_valid_loader(self, loader):
        """Batches of the held-out data, cycled through endlessly."""
        self.valid_batches = _Cycle(loader)

    def policy_params(self):
        """The policy's parameters that require gradients."""
        return [p for p in self.policy.parameters() if p.requires_grad]

    def policy_step(self, trunk, loss_fn, X, y, valid_batch=None):
        """Update the policy with the hypergradient of one batch.

        Parameters
        ----------
        trunk : torch.nn.Module
            The trunk (not modified).
        loss_fn : callable
            ``loss_fn(logits, y)``.
        X, y : torch.Tensor
            The training batch of the virtual step.
        valid_batch : tuple of torch.Tensor | None
            ``(X, y)`` of the validation loss; ``None``: the next held-out
            batch (see :meth:`set_valid_loader`).

        Returns
        -------
        float
            The validation loss after the virtual step.
        """
        if valid_batch is None:
            if self.valid_batches is None or self.valid_batches.loader is None:
                raise RuntimeError(
                    "No held-out data for the policy: call set_valid_loader first."
                )
            valid_batch = next(self.valid_batches)
        params = self.policy_params()
        valid_loss, grads = unrolled_hypergradient(
            trunk,
            self.policy.augment_batch,
            loss_fn,
            (X, y),
            valid_batch,
            self.unroll_lr,
            params,
        )
        self.optimizer.zero_grad()
        for param, grad in zip(params, grads):
            param.grad = grad
        self.optimizer.step()
        return float(valid_loss)

    def augment(self, X, y):
        """The trunk's training batch: one candidate drawn per example.

        The layers run in evaluation mode (one transform drawn from the
        weights for each example, involutions applied or not) and without
        gradient; the policy's training mode is restored afterwards.
        """
        was_training = self.policy.training
        self.policy.eval()
        try:
            with torch.no_grad():
                return self.policy.augment_batch(X, y)
        finally:
            self.policy.train(was_training)


def _unroll_lr(net, lr):
    """The unrolled step's rate: ``unroll_lr``, or the trunk's ``lr``."""
    return lr if net.unroll_lr is None else float(net.unroll_lr)


class ADDAMethod(Method):
    """ADDA: the layers as one data-augmentation policy searched by bilevel
    optimisation (Rommel et al. 2022, after DADA, Li et al. 2020).

    ``policy_valid_fraction`` of the training examples is held out; before
    each training step of the trunk the policy moves along
    :func:`unrolled_hypergradient` on a held-out batch, then the trunk trains
    on the batch augmented by the updated policy (one candidate drawn per
    example). No regulariser, no copies: the bare trunk predicts. The
    policy's optimiser is the estimator's ``policy_optimizer_`` (registered
    with skorch like a second optimiser, so ``save_params`` can save it).

    Notes
    -----
    ADDA/CADDA here follow DADA and CADDA (Rommel et al. 2022) with these
    approximations. The hypergradient is the one-step unrolled one of DARTS,
    computed exactly (second order through
    :func:`torch.func.functional_call`) rather than with DARTS'
    finite-difference Hessian-vector product: the networks are small, the
    exact product costs one more backward pass, and it has no step size to
    tune. The virtual step is plain SGD, whatever the trunk's optimiser. The
    selection of candidates is relaxed as the layers' ``sampling`` says:
    the softmax mixture (DARTS' relaxation) or one candidate per example
    with a straight-through gradient (close to DADA's Gumbel-softmax); the
    magnitudes get reparametrised gradients and the involutions'
    probabilities straight-through relaxed Bernoulli ones (instead of
    DADA's RELAX estimator). Policy and trunk are updated alternately at
    every batch (policy first), in one run: the trunk trained during the
    search is the model returned, without the papers' second training of a
    new network with the frozen policy (freeze it with
    ``bilevel_policy_.fixed_transforms()`` to run that step), so the
    training times measured here are lower bounds of the papers' cost.
    """

    name = "adda"
    # the policy's learning rate: 10 times the trunk's (AugNet's former default)
    defaults = {
        "reg": 0,
        "aug_lr": 10.0,
        "magnitude_lr": None,
        "reg_scale": "magnitude",
        "sampling": "mixture",
    }
    takes_reg = False
    averages_copies = False
    augments_forward = False  # the training step augments, not the forward pass
    distributed = False  # the policy step is not distributed

    def n_policies(self, net):
        """One policy for all classes."""
        return 1

    def build_policy(self, net):
        n_policies = self.n_policies(net)
        if isinstance(net.augmentation, AugmentationModule):
            # the user's module keeps its seeds: every copy draws alike
            return BilevelPolicy(
                [copy.deepcopy(net.augmentation) for _ in range(n_policies)]
            )
        seeds = seed_stream(net.augmentation_random_state())
        return BilevelPolicy(
            [self.build_layers(net, next(seeds)) for _ in range(n_policies)]
        )

    def policy_table(self, net):
        return unwrap_module(net).augmentation.policy_table(
            getattr(net, "classes_", None)
        )

    def bilevel_policy(self, net):
        return unwrap_module(net).augmentation

    def param_groups(self, net, named, lr):
        return []  # the policy has its own optimiser

    def initialize_optimizer(self, net):
        """The policy's Adam, ``betas=(0.5, 0.999)`` as DARTS' and DADA's
        policy parameters, at ``aug_lr`` (weights) and ``magnitude_lr``."""
        module = unwrap_module(net)
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        lr = net.get_params_for("optimizer").get("lr", net.lr)
        net.policy_optimizer_ = torch.optim.Adam(
            self.augmentation_groups(net, named, lr), betas=(0.5, 0.999)
        )
        net.bilevel_ = UnrolledPolicySearch(
            module.augmentation, net.policy_optimizer_, _unroll_lr(net, lr)
        )

    def forget(self, net):
        """The unrolled search (:attr:`bilevel_`), bound to the old policy."""
        vars(net).pop("bilevel_", None)

    def update_groups(self, net, named, lr):
        """The policy's own optimizer and the unrolled step's rate."""
        update_in_place(net.policy_optimizer_, self.augmentation_groups(net, named, lr))
        net.bilevel_.unroll_lr = _unroll_lr(net, lr)

    def search(self, net):
        """``net.bilevel_``, bound to the net's policy and optimiser.

        A pickled or copied search holds neither (skorch stores modules and
        optimisers on their own); one pickled before ``policy_optimizer_``
        existed holds its optimiser's state, restored here.
        """
        search = net.bilevel_
        if not hasattr(net, "policy_optimizer_"):
            with net._current_init_context("optimizer"):  # registered by skorch
                self.initialize_optimizer(net)
            net.policy_optimizer_.load_state_dict(search.optimizer_state)
            net.bilevel_.valid_batches, search = search.valid_batches, net.bilevel_
        search.policy = unwrap_module(net).augmentation
        search.optimizer = net.policy_optimizer_
        return search

    def split(self, net, dataset_train):
        """Hold out the policy's data: a loader for :attr:`bilevel_`."""
        dataset_train, held_out = self.hold_out(net, dataset_train)
        # as the training iterator, but keeping a last smaller batch: the
        # held-out set may be smaller than batch_size
        kwargs = net.get_params_for("iterator_train")
        batch_size = kwargs.pop("batch_size", net.batch_size)
        kwargs["batch_size"] = len(held_out) if batch_size == -1 else batch_size
        kwargs["drop_last"] = False
        self.search(net).set_valid_loader(net.iterator_train(held_out, **kwargs))
        return dataset_train

    def hold_out(self, net, dataset):
        """``(kept, held)`` subsets, stratified by class when possible."""
        n = len(dataset)
        n_held = int(round(float(net.policy_valid_fraction) * n))
        if n_held < 1 or n_held >= n:
            raise ValueError(
                f"policy_valid_fraction={net.policy_valid_fraction!r} of {n} training "
                f"examples holds out {n_held}: ADDA/CADDA need at least one example "
                "for the policy and one for the trunk. Use more data or another "
                "fraction."
            )
        targets = getattr(dataset, "y", None)
        stratify = None
        if targets is not None and len(targets) == n:
            targets = to_numpy(targets) if torch.is_tensor(targets) else targets
            targets = np.asarray(targets)
            counts = np.unique(targets, return_counts=True)[1]
            if counts.min() >= 2 and len(counts) <= min(n_held, n - n_held):
                stratify = targets
        seed = net.random_state
        if isinstance(seed, torch.Generator):
            seed = int(torch.randint(2**31 - 1, (1,), generator=seed))
        kept, held = train_test_split(
            np.arange(n), test_size=n_held, stratify=stratify, random_state=seed
        )
        return (
            torch.utils.data.Subset(dataset, kept),
            torch.utils.data.Subset(dataset, held),
        )

    def before_train_step(self, net, batch):
        """The policy's step on a held-out batch, then the trunk's batch
        augmented by the updated policy (each example by its class's, CADDA)."""
        net._set_training(True)
        Xi, yi = unpack_data(batch)
        X, y = to_device(Xi, net.device), to_device(yi, net.device)
        search = self.search(net)
        Xv, yv = unpack_data(next(search.valid_batches))
        valid = (to_device(Xv, net.device), to_device(yv, net.device))

        def trunk_loss(logits, target):  # the criterion takes log-probabilities
            return net.criterion_(torch.log_softmax(logits, dim=-1), target)

        trunk = unwrap_module(net).trunk
        loss = search.policy_step(trunk, trunk_loss, X, y, valid)
        net.history.record_batch("policy_valid_loss", loss)
        return (search.augment(X, y), yi)


class CADDAMethod(ADDAMethod):
    """CADDA: ADDA with one policy per class (Rommel et al. 2022)."""

    name = "cadda"

    def n_policies(self, net):
        """The number of classes: ``module__n_outputs``, ``classes``, or
        those of the ``y`` given to ``fit``."""
        n_outputs = net.get_params_for("module").get("n_outputs")
        if n_outputs is None and net.classes is not None:
            n_outputs = len(net.classes)
        if n_outputs is None:
            n_outputs = getattr(net, "n_classes_fit_", None)
        if n_outputs is None:
            raise ValueError(
                "method='cadda' builds one policy per class and needs their number "
                "before training: pass y to fit, classes=... or module__n_outputs=..."
            )
        return int(n_outputs)
