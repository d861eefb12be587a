"""`python -m gic.codecs.bench ...`: the same as `gic bench ...`."""
import sys

from .command import main

sys.exit(main())
