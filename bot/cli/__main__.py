"""`python -m bot.cli`: the same as `coachbot`."""

import sys

from bot.cli.main import main

sys.exit(main())
