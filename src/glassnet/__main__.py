"""``python -m glassnet``: the ``glassnet`` command (see ``glassnet --help``)."""
import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
