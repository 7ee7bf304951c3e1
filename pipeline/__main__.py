"""``python -m pipeline``: the same command line as ``clarity`` (see :mod:`pipeline.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
