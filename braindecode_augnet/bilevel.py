"""Old home of ADDA/CADDA, kept so that imports and pickles still work.

They live in :mod:`braindecode_augnet.methods.bilevel`.
"""

from .methods.bilevel import (
    BilevelPolicy,
    UnrolledPolicySearch,
    _Cycle,
    unrolled_hypergradient,
)

__all__ = ["BilevelPolicy", "UnrolledPolicySearch", "unrolled_hypergradient"]
_Cycle = _Cycle  # pickled with old searches' held-out batches
