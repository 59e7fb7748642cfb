"""``python -m gateway`` is the ``smc-gateway`` command."""

import sys

from gateway.cli import main

sys.exit(main())
