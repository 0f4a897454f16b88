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
  batches, used by ``AugNetClassifier(method='adda' | 'cadda')``.
"""

import pandas as pd
import torch
from torch import nn
from torch.func import functional_call

from .layers import AugmentationModule, apply_grouped
from .policy import fixed_transforms, policy_table

__all__ = ["BilevelPolicy", "UnrolledPolicySearch", "unrolled_hypergradient"]


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
