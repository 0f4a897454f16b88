"""Per-device torch random generators seeded from a ``random_state``.

Two ways of drawing: from each generator's stream (training), or, inside
:func:`keyed_draws`, as a counter-based function of the seed and of a key
per example (predictions, see :func:`keyed_copies`): an example's draws
then depend on its key only, not on the other examples of its batch nor on
the batch size.
"""

import contextlib
import math
import threading
from numbers import Integral

import numpy as np
import torch

from .functional import is_compiling

#: Per thread: ``group``, the consecutive examples that share every draw (see
#: shared_draws, default 1); ``keyed``, the keys of the rows being augmented
#: inside keyed_draws (default None); ``predicting``, whether a prediction's
#: batch is being computed (see predicting, default False). Thread-local
#: attributes, not ContextVars: torch.compile traces them and guards on them.
_STATE = threading.local()


def _group_size():
    return getattr(_STATE, "group", 1)


def _keyed():
    return getattr(_STATE, "keyed", None)


_MASK64 = (1 << 64) - 1
# splitmix64's constants (Steele, Lea & Flood, 2014), as signed int64
_GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)
_MIX1 = 0xBF58476D1CE4E5B9 - (1 << 64)
_MIX2 = 0x94D049BB133111EB - (1 << 64)


def _signed(value):
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def _mix64(z):
    """splitmix64's finaliser on an int64 tensor (products wrap modulo 2**64;
    the masks make the right shifts logical)."""
    z = z ^ ((z >> 30) & ((1 << 34) - 1))
    z = z * _MIX1
    z = z ^ ((z >> 27) & ((1 << 37) - 1))
    z = z * _MIX2
    return z ^ ((z >> 31) & ((1 << 33) - 1))


def _mix64_int(z):
    """:func:`_mix64` on a Python int (the reference of the tensor version)."""
    z &= _MASK64
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & _MASK64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & _MASK64
    return _signed(z ^ (z >> 31))


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
    previous, _STATE.group = _group_size(), int(group_size)
    try:
        yield
    finally:
        _STATE.group = previous


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
    sequence = np.random.SeedSequence(int(drawn_seed(random_state)))
    while True:
        yield int(sequence.spawn(1)[0].generate_state(1)[0])


def drawn_seed(random_state):
    """An int seed drawn from a :class:`numpy.random.RandomState` (whose
    stream moves on), else ``random_state`` as is."""
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return random_state


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


class _KeyedRows:
    """The keys of the rows of the batch being augmented, and how many draws
    each generator made for them (its next draw's counter).

    ``keys`` holds the distinct keys and ``rows`` the index of each row's
    key: rows sharing a key share their draws, computed once.
    """

    def __init__(self, keys, rows):
        self.keys = keys
        self.rows = rows
        self.counts = {}

    def subset(self, index):
        """The keyed rows ``index`` (fresh counters)."""
        return _KeyedRows(self.keys, self.rows[index])

    def draw(self, generators, kind, shape, like, probs=None):
        """Counter-based draws for the rows, or ``None`` when the first
        dimension of ``shape`` is not the rows' (drawn from the stream)."""
        n = shape[0]
        if n != self.rows.shape[0]:
            return None
        group, n_groups = _n_groups(n)
        rows = self.rows if group == 1 else self.rows.view(n_groups, group)[:, 0]
        count = self.counts.get(id(generators), 0)
        self.counts[id(generators)] = count + 1
        seed = generators.keyed_seed(self.keys.device)
        stream = _mix64_int(_mix64_int(seed) + count * 0x9E3779B97F4A7C15)
        per_key = _mix64(self.keys ^ _signed(stream))
        rest = tuple(shape[1:])
        elements = torch.arange(math.prod(rest), device=self.keys.device) * _GOLDEN
        bits = _mix64(per_key[:, None] + elements).reshape(-1, *rest)
        dtype = None if probs is not None else like.dtype
        out = _bits_to_draws(bits, kind, dtype, probs).index_select(0, rows)
        return out if group == 1 else out.repeat_interleave(group, dim=0)


def _bits_to_draws(bits, kind, dtype, probs):
    """Uniform, normal or categorical draws from random 64-bit integers."""
    if kind == "categorical":
        uniform = ((bits >> 40) & 0xFFFFFF).to(probs.dtype) * 2.0**-24
        cumulative = torch.cumsum(probs, 0)
        index = torch.searchsorted(
            cumulative[:-1].contiguous(), uniform * cumulative[-1], right=True
        )
        return index.squeeze(-1)
    if dtype == torch.float64:
        integer, scale = (bits >> 11) & ((1 << 53) - 1), 2.0**-53
    else:
        integer, scale = (bits >> 40) & 0xFFFFFF, 2.0**-24
    wide = torch.float64 if dtype == torch.float64 else torch.float32
    if kind == "uniform":  # in [0, 1)
        return (integer.to(wide) * scale).to(dtype)
    # normal: the inverse of the normal CDF at a uniform draw in (0, 1)
    return torch.special.ndtri((integer.to(wide) + 0.5) * scale).to(dtype)


@contextlib.contextmanager
def keyed_draws(keys, rows=None):
    """Make every draw of :class:`DeviceGenerators` a function of row keys.

    Inside the context, a draw whose first dimension is the number of rows
    is computed, for each row, from the generator's seed, the row's key and
    how many draws the generator made in the context (splitmix64,
    counter-based): a row's draws do not depend on the other rows, their
    number or their order, and rows with the same key draw alike. Draws of
    another first dimension come from the stream.

    Parameters
    ----------
    keys : torch.Tensor
        ``(n_keys,)`` int64 keys, on the device of the rows.
    rows : torch.Tensor | None
        ``(n_rows,)`` index of each row's key in ``keys``; ``None``: one key
        per row.
    """
    if rows is None:
        rows = torch.arange(keys.shape[0], device=keys.device)
    previous, _STATE.keyed = _keyed(), _KeyedRows(keys, rows)
    try:
        yield
    finally:
        _STATE.keyed = previous


def on_rows(index, fn, *args):
    """``fn(*args)`` for the rows ``index`` of the batch of :func:`keyed_draws`.

    A function that augments a subset of the rows (e.g. the examples that
    drew one candidate) gets their keys; outside keyed draws, or with
    ``index`` None, simply ``fn(*args)``.
    """
    keyed = _keyed()
    if keyed is None or index is None:
        return fn(*args)
    _STATE.keyed = keyed.subset(index)
    try:
        return fn(*args)
    finally:
        _STATE.keyed = keyed


def keyed_draws_active():
    """Whether draws are keyed (inside :func:`keyed_draws`)."""
    return _keyed() is not None


@contextlib.contextmanager
def predicting_block():
    """Prediction mode for the calls made inside a ``with`` block:
    :class:`~.AugNet` then keys its copies' draws (see
    :func:`keyed_copies`)."""
    previous, _STATE.predicting = getattr(_STATE, "predicting", False), True
    try:
        yield
    finally:
        _STATE.predicting = previous


def predicting(outputs):
    """Yield ``outputs``, each computed in prediction mode.

    Wraps the iterator of a prediction's batches (the flag is set only while
    each batch is computed, by :func:`predicting_block`).
    """
    outputs = iter(outputs)
    while True:
        with predicting_block():
            try:
                output = next(outputs)
            except StopIteration:
                return
        yield output


def keyed_copies(first_copy, n_copies, n_batch, n_windows, device):
    """:func:`keyed_draws` for copies of a batch being predicted; a null
    context outside predictions (see :func:`predicting`).

    Rows are copy-major (``copy * n_batch + example``), each example's
    windows consecutive for sequences. The key of a row is the copy's index
    ``first_copy + copy`` (and, for sequences, the window's index in its
    sequence): every example gets the same ``n_copies`` draws, so that its
    prediction depends on itself only, not on the other examples of its
    batch, their order, the batch size or how copies are chunked.
    """
    if not getattr(_STATE, "predicting", False):
        return contextlib.nullcontext()
    n_windows = 1 if n_windows is None else n_windows
    copies = torch.arange(first_copy, first_copy + n_copies, device=device)
    windows = torch.arange(n_windows, device=device)
    keys = _mix64(_mix64(copies)[:, None] + windows * _GOLDEN).reshape(-1)
    rows = (
        (torch.arange(n_copies, device=device)[:, None, None] * n_windows + windows)
        .expand(n_copies, n_batch, n_windows)
        .reshape(-1)
    )
    return keyed_draws(keys, rows)


def _contiguous_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


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

    def keyed_seed(self, device):
        """The integer seed of keyed draws (see :func:`keyed_draws`).

        ``random_state`` itself when an int; otherwise drawn once from it
        (a RandomState, a torch.Generator, torch's global generator) and
        kept until :meth:`reset`.
        """
        seed = self.random_state
        if isinstance(seed, Integral):
            return int(seed)
        cached = self._generators.get("keyed")
        if cached is None:
            if isinstance(seed, np.random.RandomState):
                cached = int(seed.randint(0, 2**31 - 1))
            else:  # a torch.Generator, or torch's global one (None)
                cached = int(
                    torch.randint(
                        2**62,
                        (1,),
                        generator=seed,
                        device="cpu" if seed is None else seed.device,
                    )
                )
            self._generators["keyed"] = cached
        return cached

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
        keyed = _keyed()
        if keyed is not None:
            kind = "uniform" if method is torch.Tensor.uniform_ else "normal"
            out = keyed.draw(self, kind, shape, like)
            if out is not None:
                return out
        group, n = _n_groups(shape[0])
        out = torch.empty((n, *shape[1:]), device=like.device, dtype=like.dtype)
        out = method(out, generator=self.get(like.device))
        return out if group == 1 else out.repeat_interleave(group, dim=0)

    def uniform(self, shape, like):
        """Uniform draws in [0, 1) on ``like``'s device and dtype (those of
        :func:`torch.rand`)."""
        return self._draw(torch.Tensor.uniform_, shape, like)

    def uniform_parts(self, shapes, like):
        """Uniform draws of several shapes in one operator (views of one
        draw): on CPU the numbers of :meth:`uniform` called for each shape in
        turn."""
        shapes = [tuple(shape) for shape in shapes]
        # one shape at a time where draws are shared or keyed, and under
        # torch.compile (dynamo does not trace storage offsets)
        if _group_size() != 1 or _keyed() is not None or is_compiling():
            return [self.uniform(shape, like) for shape in shapes]
        sizes = [math.prod(shape) for shape in shapes]
        flat = torch.empty(sum(sizes), device=like.device, dtype=like.dtype)
        flat = flat.uniform_(generator=self.get(like.device))
        # contiguous views, one operator each (split and view make two)
        parts, offset = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(flat.as_strided(shape, _contiguous_strides(shape), offset))
            offset += size
        return parts

    def normal(self, shape, like):
        """Standard normal draws on ``like``'s device and dtype (those of
        :func:`torch.randn`)."""
        return self._draw(torch.Tensor.normal_, shape, like)

    def categorical(self, probs, n):
        """``n`` independent draws from the categorical ``probs``.

        Off CPU, a single draw is taken as the first of two: torch checks the
        probabilities on the host (a synchronisation) when it draws one.
        """
        keyed = _keyed()
        if keyed is not None and probs.ndim == 1:
            probs = probs.detach().float()
            out = keyed.draw(self, "categorical", (n, 1), probs, probs=probs)
            if out is not None:
                return out
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
