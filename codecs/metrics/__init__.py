"""Image quality metrics: PSNR, MS-SSIM, LPIPS (v0.1 alex-lin, with a spatial map) and DISTS.

Functions take uint8 HxWx3 RGB arrays of the same size and return floats; networks are loaded
once per device and run in inference mode, on CUDA when available unless `device` says otherwise.
Training code wants the differentiable modules instead: `LPIPS` (inputs in [-1, 1]) and `DISTS`
(inputs in [0, 1]).

`lpips` and `dists` are both the submodules and, being callable, the functions:
`metrics.lpips(ref, dist)` works, as does `metrics.lpips.LPIPS`.

Large images are evaluated in exact tiles/bands (same result as one pass), so memory does not grow
with image size beyond the images themselves. Measured on CPU, 1 thread, 4000x3000: PSNR 0.1 s;
MS-SSIM 12 s, ~0.4 GB; LPIPS 18 s, ~0.45 GB. DISTS (VGG16) needs ~0.9 GB whatever the size and about
25 s per megapixel on one (shared) CPU thread (benchmarks/metric_cost.json): use CUDA for large images.

LPIPS and DISTS keep the reference image's features between calls (`refcache`), so comparing one
original with many decoded images runs the network on the decoded ones only: half the cost, the
same numbers.
"""
from __future__ import annotations

import importlib
import math
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from gic.codecs.errors import CodecError

from ..names import METRICS  # the names live where importing them needs no torch
from ..torch_check import require_torch
from .pixel import MS_SSIM_MIN_SIZE, check_images, ms_ssim, psnr

if TYPE_CHECKING:
    import torch

    from . import dists, lpips, refcache
    from .dists import DISTS
    from .lpips import LPIPS, lpips_map
    from .weights import DISTS_SETUP_COMMAND

__all__ = [
    "METRICS", "DISTS", "DISTS_SETUP_COMMAND", "LPIPS", "compute", "dists", "lpips", "lpips_map",
    "ms_ssim", "psnr", "refcache",
]

#: The names that need torch, as (submodule, attribute or None for the module itself): loaded on
#: first use (PEP 562), so PSNR and MS-SSIM work in an installation without torch.
_NEEDS_TORCH = {
    "lpips": ("lpips", None), "dists": ("dists", None), "refcache": ("refcache", None),
    "LPIPS": ("lpips", "LPIPS"), "lpips_map": ("lpips", "lpips_map"), "DISTS": ("dists", "DISTS"),
    "DISTS_SETUP_COMMAND": ("weights", "DISTS_SETUP_COMMAND"),
}
_LABELS = {"lpips": "LPIPS", "dists": "DISTS"}


def __getattr__(name: str) -> Any:
    """The torch-backed parts, imported when first asked for (CodecError when torch is missing)."""
    if name not in _NEEDS_TORCH:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _NEEDS_TORCH[name]
    require_torch(f"the metric {_LABELS[module]}" if module in _LABELS else f"{__name__}.{name}")
    mod = importlib.import_module(f".{module}", __name__)
    return mod if attr is None else getattr(mod, attr)


def compute(
    ref: np.ndarray,
    dist: np.ndarray,
    metrics: Iterable[str] = METRICS,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """The requested metrics as {"psnr": dB, "ms-ssim": 0..1, "lpips": d, "dists": d}.

    PSNR is inf for identical images. MS-SSIM is NaN for images under 161 px on a side (undefined
    at 5 scales) rather than an error, so the other metrics of a small image are still reported.
    A missing DISTS weights file raises CodecError naming the set-up command, and LPIPS or DISTS
    without torch installed one saying so.
    """
    check_images(ref, dist)
    wanted = list(metrics)
    unknown = [m for m in wanted if m not in METRICS]
    if unknown:
        raise CodecError(f"unknown metric {unknown[0]!r}; choose from {', '.join(METRICS)}")
    out: dict[str, float] = {}
    for name in wanted:
        if name == "psnr":
            out[name] = psnr(ref, dist)
        elif name == "ms-ssim":
            h, w = ref.shape[:2]
            out[name] = ms_ssim(ref, dist) if min(h, w) >= MS_SSIM_MIN_SIZE else math.nan
        else:  # lpips, dists: the module of that name is also its function
            out[name] = __getattr__(name)(ref, dist, device)
    return out
