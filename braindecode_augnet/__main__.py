"""``python -m braindecode_augnet``: see :mod:`braindecode_augnet.study.cli`."""

import sys

from .study.cli import main

if __name__ == "__main__":
    sys.exit(main())
