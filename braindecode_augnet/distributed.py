"""AugNet on several GPUs or machines, through Hugging Face Accelerate.

:class:`AcceleratedAugNetClassifier` composes skorch's
:class:`skorch.hf.AccelerateMixin` with :class:`~.AugNetClassifier`: the
engine (device placement, DistributedDataParallel, mixed precision, gradient
accumulation) is Accelerate's, launched with ``accelerate launch`` or
``torchrun``; nothing here re-implements it.
"""

from numbers import Integral

import torch
from skorch.hf import AccelerateMixin

from .classifier import AugNetClassifier
from .methods import METHODS

__all__ = ["AcceleratedAugNetClassifier"]


class AcceleratedAugNetClassifier(AccelerateMixin, AugNetClassifier):
    """:class:`~.AugNetClassifier` trained with Hugging Face Accelerate.

    Pass ``accelerator=accelerate.Accelerator(...)`` (with e.g.
    ``mixed_precision="bf16"`` or ``gradient_accumulation_steps``) and leave
    ``device=None``: Accelerate places the model. Run the script with
    ``accelerate launch script.py`` (or ``torchrun``) for several processes.

    - Each process draws its own augmentations: an integer ``random_state``
      is offset by the process index (:meth:`augmentation_random_state`).
    - The policy (layer weights, magnitudes) is a set of ordinary parameters
      of the model, so DistributedDataParallel averages its gradients like
      the trunk's: it stays identical across processes after every step.
    - The regulariser is computed in :meth:`get_loss` from the unwrapped
      model, once per micro-batch, so gradient accumulation scales it like
      the data term; the policy logged in the history is the unwrapped
      model's.

    As :class:`skorch.hf.AccelerateMixin` warns, a model still wrapped for
    acceleration cannot be pickled: keep ``unwrap_after_train=True`` (the
    default) or use ``save_params``.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`~.AugNetClassifier`, plus ``accelerator`` (required),
        ``unwrap_after_train`` and ``callbacks__print_log__sink`` of
        :class:`skorch.hf.AccelerateMixin`.

    Examples
    --------
    >>> from accelerate import Accelerator  # doctest: +SKIP
    >>> clf = AcceleratedAugNetClassifier(  # doctest: +SKIP
    ...     "SleepStagerChambon2018",
    ...     module__sfreq=100.0,
    ...     accelerator=Accelerator(mixed_precision="bf16"),
    ...     random_state=0,
    ... )
    >>> clf.fit(X, y)  # doctest: +SKIP
    """

    def initialize(self):
        """As skorch's, once ``accelerator`` is known to be an Accelerator."""
        if not callable(getattr(self.accelerator, "prepare", None)):
            raise TypeError(
                "accelerator must be an accelerate.Accelerator (e.g. "
                f"Accelerator() or Accelerator(cpu=True)), got {self.accelerator!r}."
            )
        return super().initialize()

    def _initialize_callbacks(self):
        """As skorch's, but ``verbose`` is honoured: skorch's PrintLog prints
        to any sink other than ``print`` (the accelerator's is one) whatever
        ``verbose`` says. With the sink ``'auto'``, the local main process
        prints through ``print`` (which PrintLog silences at ``verbose=0``)
        and the others print nothing, as the accelerator's print; ``'auto'``
        stays the parameter, so a later ``set_params(verbose=...)`` is
        honoured too."""
        if self.callbacks__print_log__sink != "auto":
            return super()._initialize_callbacks()
        self.callbacks__print_log__sink = self._auto_sink()
        try:
            return super()._initialize_callbacks()
        finally:
            self.callbacks__print_log__sink = "auto"

    def set_params(self, **kwargs):
        """As :class:`~.AugNetClassifier`'s; a sink set back to ``'auto'``
        (e.g. ``set_params(**get_params())``) is resolved, as at
        initialisation, not handed to the epoch table as a string."""
        super().set_params(**kwargs)
        if kwargs.get("callbacks__print_log__sink") == "auto" and getattr(
            self, "initialized_", False
        ):
            for name, callback in self.callbacks_:
                if name == "print_log":
                    callback.sink = self._auto_sink()
        return self

    def get_params(self, deep=True):
        """As skorch's; the sink ``'auto'`` is reported as set, not as the
        callback resolved it, so that ``deep=True`` and ``deep=False`` agree
        and ``set_params(**get_params())`` keeps it per process."""
        params = super().get_params(deep=deep)
        if deep and self.callbacks__print_log__sink == "auto":
            params["callbacks__print_log__sink"] = "auto"
        return params

    def _auto_sink(self):
        """``print`` on the local main process, nothing on the others."""
        main = getattr(self.accelerator, "is_local_main_process", True)
        return print if main else _print_nothing

    def initialize_module(self):
        """As :class:`~.AugNetClassifier`; methods whose strategy is not
        ``distributed`` (ADDA, CADDA: their policy step is not) are refused."""
        if not self.strategy.distributed:
            raise ValueError(
                f"method={self.method!r} is not supported with Accelerate (its "
                "bilevel training step is not distributed): use AugNetClassifier, "
                "or a method among "
                f"{tuple(m for m, cls in METHODS.items() if cls.distributed)}."
            )
        return super().initialize_module()

    def _initialize_accelerator(self):
        """As skorch's, but a criterion without trainable parameters is moved
        to the accelerator's device instead of prepared: with several
        processes, DistributedDataParallel refuses to wrap a module that has
        no parameter to synchronise (AugNet's NLL loss)."""
        kept = {}
        if not self._wrapped_with_accelerator:
            for name in self._criteria:
                criterion = getattr(self, name + "_")
                if isinstance(criterion, torch.nn.Module) and not any(
                    p.requires_grad for p in criterion.parameters()
                ):
                    kept[name] = criterion.to(self.accelerator.device)
                    setattr(self, name + "_", None)
        try:
            return super()._initialize_accelerator()
        finally:
            for name, criterion in kept.items():
                setattr(self, name + "_", criterion)

    def get_iterator(self, dataset, training=False):
        """As skorch's, with the data loader inside braindecode's wrapper
        prepared: Accelerate does not recognise the wrapper (it is no
        DataLoader), so that every process would see every batch, and
        prediction would return each example once per process."""
        iterator = super().get_iterator(dataset, training=training)
        loader = getattr(iterator, "loader", None)
        if isinstance(loader, torch.utils.data.DataLoader):
            iterator.loader = self.accelerator.prepare(loader)
        return iterator

    def augmentation_random_state(self):
        """``random_state`` offset by the process index (an int seed only)."""
        seed = super().augmentation_random_state()
        index = getattr(self.accelerator, "process_index", 0)
        if isinstance(seed, Integral) and not isinstance(seed, bool):
            return int(seed) + int(index)
        return seed


def _print_nothing(*args, **kwargs):
    """The epoch table's sink on the processes other than the main one."""
