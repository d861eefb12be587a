"""The coarse-to-fine order in which UIGC codes (and regenerates) a token grid.

Seven parity steps over the 1/16 token grid, each predicted in parallel from the steps before it
(a fixed schedule in the spirit of M2T, split by 2x2 parity as the UIGC paper's checkerboard groups):
a sparse 8x8 lattice first, then the centres and edge midpoints of spacing 8, 4 and 2. The last
step is the checkerboard half ((y + x) odd) whose tokens the encoder may drop; the one before it
((y, x) both odd) is the next candidate. Fractions: 1, 1, 2, 4, 8, 16, 32 of 64.
"""
from __future__ import annotations

import numpy as np

NUM_STEPS = 7
#: The step index the prior is told when it fills dropped tokens (a pass of its own).
FILL = NUM_STEPS


def step_map(h: int, w: int) -> np.ndarray:
    """h x w int array: the step (0..6) at which each token position is coded."""
    y, x = np.mgrid[0:h, 0:w]
    out = np.full((h, w), 6, dtype=np.int64)  # (y + x) odd: the checkerboard half
    out[(y % 2 == 1) & (x % 2 == 1)] = 5
    out[((y % 4 == 0) & (x % 4 == 2)) | ((y % 4 == 2) & (x % 4 == 0))] = 4
    out[(y % 4 == 2) & (x % 4 == 2)] = 3
    out[((y % 8 == 0) & (x % 8 == 4)) | ((y % 8 == 4) & (x % 8 == 0))] = 2
    out[(y % 8 == 4) & (x % 8 == 4)] = 1
    out[(y % 8 == 0) & (x % 8 == 0)] = 0
    return out
