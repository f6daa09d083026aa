"""`python -m flows.cli`: the `axiswatch` command."""

import sys

from flows.cli.commands import main

sys.exit(main())
