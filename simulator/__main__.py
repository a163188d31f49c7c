"""Run the WattShift simulator's command line: `python -m simulator --help`."""

import sys

from .cli import main

sys.exit(main())
