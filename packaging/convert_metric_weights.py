#!/usr/bin/env python
"""Set-up step of a checkout: convert the metric weights (see gic.codecs.metrics.convert).

    python packaging/convert_metric_weights.py --dists     # same as: python -m gic.codecs.metrics.convert --dists
"""
import sys

from gic.codecs.metrics.convert import main

if __name__ == "__main__":
    sys.exit(main())
