"""`python -m mame.cli` is the `mame` command."""

import sys

from mame.cli import main

sys.exit(main())
