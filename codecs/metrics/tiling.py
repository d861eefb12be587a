"""Exact tiled evaluation of convolutional feature maps, so large images fit in memory.

A network whose every layer is a convolution/pooling with "same"-style or no padding and total
stride S (a power of two) produces, inside a window of the input, the same feature values as on the
whole image wherever the window contains the feature's receptive field, provided the window starts
at a multiple of S. So the image is cut into cores whose edges lie on multiples of S, each core is
evaluated inside a window grown by a margin larger than the receptive-field radius, and only the
features belonging to the core are kept. The union of the kept features equals the full-image
feature map exactly (up to float summation order); no blending or approximation is involved.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch


@dataclass(frozen=True)
class Tile:
    """A window of the input (`win_*`) and the core (`core_*`) whose features it owns."""

    win_y0: int
    win_y1: int
    win_x0: int
    win_x1: int
    core_y0: int
    core_y1: int
    core_x0: int
    core_x1: int
    last_y: bool
    last_x: bool

    def crop(self, feat: torch.Tensor, stride: int) -> tuple[torch.Tensor, int, int]:
        """Keep the part of a window's feature map (…×h×w, given stride) that this core owns.

        Returns the crop and its (row, column) offset in the full-image feature map. The last tile
        in each direction keeps everything up to the end of the map, whose size need not be a
        multiple of anything.
        """
        y0 = (self.core_y0 - self.win_y0) // stride
        x0 = (self.core_x0 - self.win_x0) // stride
        y1 = feat.shape[-2] if self.last_y else (self.core_y1 - self.win_y0) // stride
        x1 = feat.shape[-1] if self.last_x else (self.core_x1 - self.win_x0) // stride
        return feat[..., y0:y1, x0:x1], self.core_y0 // stride, self.core_x0 // stride


def _cuts(size: int, core: int) -> list[int]:
    cuts = list(range(0, size, core))
    # A sliver of a last core would only cost an extra window: merge it into the previous one.
    if len(cuts) > 1 and size - cuts[-1] < core // 4:
        cuts.pop()
    return cuts + [size]


def tiles(height: int, width: int, core: int, margin: int, align: int) -> Iterator[Tile]:
    """Cover a height×width image with cores of about `core` px; windows add `margin` on each side.

    `core` and `margin` must be multiples of `align` (the network's total stride) so every window
    starts on the stride grid.
    """
    if core % align or margin % align:
        raise ValueError("core and margin must be multiples of the network stride")
    ys, xs = _cuts(height, core), _cuts(width, core)
    for i in range(len(ys) - 1):
        for j in range(len(xs) - 1):
            cy0, cy1, cx0, cx1 = ys[i], ys[i + 1], xs[j], xs[j + 1]
            yield Tile(
                win_y0=max(0, cy0 - margin),
                win_y1=min(height, cy1 + margin),
                win_x0=max(0, cx0 - margin),
                win_x1=min(width, cx1 + margin),
                core_y0=cy0,
                core_y1=cy1,
                core_x0=cx0,
                core_x1=cx1,
                last_y=i == len(ys) - 2,
                last_x=j == len(xs) - 2,
            )
