"""Pixel-fidelity metrics: PSNR and MS-SSIM on uint8 RGB images.

MS-SSIM follows Wang, Simoncelli & Bovik (2003) as implemented by `pytorch_msssim` (the one
CompressAI reports as "ms-ssim-rgb"): 5 scales with weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333),
11-tap Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, data range 255, "valid" filtering,
2x2 average pooling between scales; computed on each RGB channel separately and averaged over the
three channels. Images need at least 161 px on their shorter side (the coarsest scale must still
hold an 11x11 window); smaller ones get a CodecError.

Both metrics work in horizontal bands so a 12-Mpx image costs tens of MB, not gigabytes.
"""
from __future__ import annotations

import math

import numpy as np

from gic.codecs.errors import CodecError


MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WIN_SIZE = 11
WIN_SIGMA = 1.5
K1, K2 = 0.01, 0.03
DATA_RANGE = 255.0
#: Shorter side needed for 5 scales: (11 - 1) * 2**4 + 1.
MS_SSIM_MIN_SIZE = (WIN_SIZE - 1) * 2 ** (len(MS_SSIM_WEIGHTS) - 1) + 1
#: Output rows filtered at once (bounded memory whatever the image height).
_BAND = 256


def check_images(ref: np.ndarray, dist: np.ndarray) -> None:
    """Both images must be uint8 RGB (HxWx3) of the same size."""
    for name, im in (("reference", ref), ("distorted", dist)):
        if not isinstance(im, np.ndarray) or im.dtype != np.uint8 or im.ndim != 3 or im.shape[2] != 3:
            shape = getattr(im, "shape", None)
            dtype = getattr(im, "dtype", type(im).__name__)
            raise CodecError(f"{name} image must be a uint8 HxWx3 RGB array, got {dtype} {shape}")
    if ref.shape != dist.shape:
        raise CodecError(
            f"images differ in size: {ref.shape[1]}x{ref.shape[0]} vs {dist.shape[1]}x{dist.shape[0]}"
        )


def psnr(ref: np.ndarray, dist: np.ndarray) -> float:
    """PSNR in dB over all pixels and channels, peak 255; inf when the images are identical."""
    check_images(ref, dist)
    sse = 0
    for r0 in range(0, ref.shape[0], _BAND):  # int64 sums per band: exact, bounded memory
        d = ref[r0 : r0 + _BAND].astype(np.int32) - dist[r0 : r0 + _BAND]
        sse += int(np.einsum("ijk,ijk->", d, d, dtype=np.int64))
    if sse == 0:
        return math.inf
    mse = sse / ref.size
    return 10.0 * math.log10(DATA_RANGE**2 / mse)


def _gaussian() -> np.ndarray:
    x = np.arange(WIN_SIZE, dtype=np.float64) - WIN_SIZE // 2
    g = np.exp(-(x**2) / (2 * WIN_SIGMA**2))
    return g / g.sum()


def _taps(planes: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    """"Valid" correlation with the symmetric window g along `axis` (-1 or -2), NumPy only."""
    n = planes.shape[axis] - WIN_SIZE + 1
    half = WIN_SIZE // 2

    def sl(i: int) -> np.ndarray:
        return planes[..., i : i + n] if axis == -1 else planes[..., i : i + n, :]

    out = sl(half) * g[half]
    tmp = np.empty_like(out)
    for i in range(half):  # g[i] == g[-1 - i]: add the mirrored pair, multiply once
        np.add(sl(i), sl(WIN_SIZE - 1 - i), out=tmp)
        tmp *= g[i]
        out += tmp
    return out


def _valid_filter(planes: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable Gaussian over the last two axes, keeping only "valid" positions."""
    return _taps(_taps(planes, g, -1), g, -2)


def _ssim_cs(x: np.ndarray, y: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Mean SSIM and mean contrast-structure term of two HxW planes ("valid" windows)."""
    c1, c2 = (K1 * DATA_RANGE) ** 2, (K2 * DATA_RANGE) ** 2
    h_out, w_out = x.shape[0] - WIN_SIZE + 1, x.shape[1] - WIN_SIZE + 1
    ssim_sum = cs_sum = 0.0
    for r0 in range(0, h_out, _BAND):
        r1 = min(h_out, r0 + _BAND)
        xb = x[r0 : r1 + WIN_SIZE - 1].astype(np.float64)
        yb = y[r0 : r1 + WIN_SIZE - 1].astype(np.float64)
        mu1, mu2, e11, e22, e12 = _valid_filter(np.stack([xb, yb, xb * xb, yb * yb, xb * yb]), g)
        s11, s22, s12 = e11 - mu1 * mu1, e22 - mu2 * mu2, e12 - mu1 * mu2
        cs = (2 * s12 + c2) / (s11 + s22 + c2)
        ssim = (2 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1) * cs
        ssim_sum += float(ssim.sum())
        cs_sum += float(cs.sum())
    n = h_out * w_out
    return ssim_sum / n, cs_sum / n


def _downsample(p: np.ndarray) -> np.ndarray:
    """2x2 average pooling; odd sizes get one zero row/column on each side, counted in the average
    (torch avg_pool2d(padding=1), as pytorch_msssim does)."""
    ph, pw = p.shape[0] % 2, p.shape[1] % 2
    if ph or pw:
        p = np.pad(p, ((ph, ph), (pw, pw)))
    h, w = p.shape[0] // 2, p.shape[1] // 2
    return p[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def ms_ssim(ref: np.ndarray, dist: np.ndarray) -> float:
    """5-scale MS-SSIM in [0, 1] (1 = identical), averaged over the R, G, B channels."""
    check_images(ref, dist)
    h, w = ref.shape[:2]
    if min(h, w) < MS_SSIM_MIN_SIZE:
        raise CodecError(
            f"MS-SSIM needs images of at least {MS_SSIM_MIN_SIZE}x{MS_SSIM_MIN_SIZE} px, got {w}x{h}"
        )
    g = _gaussian()
    per_channel = []
    for c in range(3):
        # float32 planes are exact here (integers, then 2x2 means: at most 8 fractional bits) and
        # halve the memory of a 12-Mpx image; the filtering itself runs in float64 per band.
        x, y = ref[..., c].astype(np.float32), dist[..., c].astype(np.float32)
        terms = []
        for level in range(len(MS_SSIM_WEIGHTS)):
            ssim, cs = _ssim_cs(x, y, g)
            last = level == len(MS_SSIM_WEIGHTS) - 1
            terms.append(max(ssim if last else cs, 0.0))  # clamped at 0, as the reference does
            if not last:
                x, y = _downsample(x), _downsample(y)
        per_channel.append(float(np.prod(np.power(terms, MS_SSIM_WEIGHTS))))
    return float(np.mean(per_channel))
