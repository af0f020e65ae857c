"""``python -m glassfit``: the ``glassfit`` command line (:mod:`glassfit.cli`)."""

import sys

from glassfit.cli import main

sys.exit(main())
