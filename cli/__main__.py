"""`python -m gic.cli ...` is `gic ...`."""
import sys

from .main import main

sys.exit(main())
