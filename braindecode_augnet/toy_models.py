"""Moved to :mod:`braindecode_augnet.study.toy_models`; this name stays importable.

The module object is the moved one (so old imports, pickles and
monkeypatching reach the same names).
"""

import importlib
import sys

_moved = importlib.import_module("braindecode_augnet.study.toy_models")

sys.modules[__name__] = _moved
