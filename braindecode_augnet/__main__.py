"""``python -m braindecode_augnet``: see :mod:`braindecode_augnet.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
