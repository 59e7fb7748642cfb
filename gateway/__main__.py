"""``python -m gateway`` is the ``smc-gateway`` command."""

import sys

from gateway.cli import main

if __name__ == "__main__":  # not when a worker process re-imports this module
    sys.exit(main())
