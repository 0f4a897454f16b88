"""Per-device torch random generators seeded from a ``random_state``."""

import contextlib
import threading
from numbers import Integral

import numpy as np
import torch

#: Per thread, ``group``: the consecutive examples that share every draw (see
#: shared_draws). A thread-local (not a ContextVar) that torch.compile traces
#: and guards on.
_SHARED = threading.local()


def _group_size():
    return getattr(_SHARED, "group", 1)


@contextlib.contextmanager
def shared_draws(group_size):
    """Share every draw of :class:`DeviceGenerators` within groups of examples.

    Inside the context, a draw for ``n`` examples (the first dimension of
    ``shape``, or ``n`` for :meth:`DeviceGenerators.categorical`) is made for
    ``n / group_size`` groups and repeated for the ``group_size`` consecutive
    examples of each group: every example of a group gets the same choice of
    transform and the same random parameters. This is how
    :class:`~braindecode_augnet.model.AugNet` augments the windows of a
    sequence with one draw per sequence.

    Parameters
    ----------
    group_size : int
        Consecutive examples per group (1: independent draws).
    """
    previous, _SHARED.group = _group_size(), int(group_size)
    try:
        yield
    finally:
        _SHARED.group = previous


def _n_groups(n):
    group = _group_size()
    if n % group:
        raise ValueError(
            f"Cannot share draws between groups of {group} consecutive examples "
            f"in a batch of {n}: the batch must hold whole groups (sequences)."
        )
    return group, n // group


def seed_stream(random_state):
    """Independent seeds derived from ``random_state``, one per ``next()``.

    Every transform and layer needs its own stream of draws: two sharing a
    seed would draw the same numbers (e.g. two ``TimeReverse`` reversing the
    same examples twice, which undoes them). An int or a RandomState gives
    ints spawned from a :class:`numpy.random.SeedSequence`; ``None`` gives
    ``None`` (torch's global generator); a :class:`torch.Generator` is shared
    as is (its successive draws already differ).
    """
    check_random_state(random_state)
    if random_state is None or isinstance(random_state, torch.Generator):
        while True:
            yield random_state
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(0, 2**31 - 1))
    sequence = np.random.SeedSequence(int(random_state))
    while True:
        yield int(sequence.spawn(1)[0].generate_state(1)[0])


def check_random_state(random_state):
    """Raise a TypeError unless ``random_state`` is a supported seed."""
    if random_state is not None and not isinstance(
        random_state, (Integral, np.random.RandomState, torch.Generator)
    ):
        raise TypeError(
            "random_state must be None, an int, a numpy RandomState or a "
            f"torch.Generator, got {type(random_state).__name__}."
        )
    return random_state


class DeviceGenerators:
    """Lazily create one :class:`torch.Generator` per device.

    Parameters
    ----------
    random_state : int | numpy.random.RandomState | torch.Generator | None
        ``None`` uses torch's global generator (so :func:`torch.manual_seed`
        controls the draws); an int or a RandomState seeds a generator per
        device; a :class:`torch.Generator` is used as is (on its own device).

    Notes
    -----
    Generators are not pickled: a pickled or deep-copied object starts again
    from ``random_state``.

    :func:`torch.compile` cannot trace a :class:`torch.Generator` argument:
    with a seed, each draw breaks the graph (and runs as without
    compilation, the same draws). For whole graphs (``fullgraph=True``,
    CUDA graphs), leave ``random_state=None``: the draws come from torch's
    default generator of the device, seeded by :func:`torch.manual_seed`.
    """

    def __init__(self, random_state=None):
        self.random_state = check_random_state(random_state)
        self._generators = {}

    def __getstate__(self):
        return {"random_state": self.random_state, "_generators": {}}

    def reset(self):
        """Restart every generator from ``random_state`` at its next use."""
        self._generators = {}

    def get(self, device):
        """Return the generator for ``device`` (``None`` for torch's global)."""
        seed = self.random_state
        if seed is None or isinstance(seed, torch.Generator):
            return seed
        key = str(torch.device(device))
        generator = self._generators.get(key)
        if generator is None:
            if isinstance(seed, np.random.RandomState):
                seed = int(seed.randint(0, 2**31 - 1))
            generator = torch.Generator(device=key)
            generator.manual_seed(int(seed))
            self._generators[key] = generator
        return generator

    def _draw(self, method, shape, like):
        # torch.empty(...).uniform_() draws what torch.rand draws, in one
        # operator fewer (torch.rand is that pair, nested in a third)
        shape = tuple(shape) if not isinstance(shape, int) else (shape,)
        group, n = _n_groups(shape[0])
        out = torch.empty((n, *shape[1:]), device=like.device, dtype=like.dtype)
        out = method(out, generator=self.get(like.device))
        return out if group == 1 else out.repeat_interleave(group, dim=0)

    def uniform(self, shape, like):
        """Uniform draws in [0, 1) on ``like``'s device and dtype (those of
        :func:`torch.rand`)."""
        return self._draw(torch.Tensor.uniform_, shape, like)

    def normal(self, shape, like):
        """Standard normal draws on ``like``'s device and dtype (those of
        :func:`torch.randn`)."""
        return self._draw(torch.Tensor.normal_, shape, like)

    def categorical(self, probs, n):
        """``n`` independent draws from the categorical ``probs``.

        Off CPU, a single draw is taken as the first of two: torch checks the
        probabilities on the host (a synchronisation) when it draws one.
        """
        group, n = _n_groups(n)
        n_draws = 2 if n == 1 and probs.device.type != "cpu" else n
        if probs.dtype != torch.float32:  # multinomial records no gradient
            probs = probs.float()
        draws = torch.multinomial(
            probs,
            n_draws,
            replacement=True,
            generator=self.get(probs.device),
        )
        draws = draws[:n] if n_draws != n else draws
        return draws if group == 1 else draws.repeat_interleave(group, dim=0)
