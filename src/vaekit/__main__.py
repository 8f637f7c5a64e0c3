"""`python -m vaekit ...` (also what torchrun launches)."""

import sys

from vaekit.cli.main import main

sys.exit(main())
