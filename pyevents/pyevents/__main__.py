"""``python3 -m pyevents COMMAND ...``: the pyevents command line (see :mod:`pyevents.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
