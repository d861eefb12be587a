"""Exact integer inference for the networks that produce coding tables (Ballé et al. 2019,
"Integer networks for data compression").

The encoder and decoder must derive bit-identical coding tables, or the range decoder goes astray;
float inference differs across thread counts, CPUs and GPUs (summation order, FMA, vector width).
Here activations are int64 with `act` fractional bits and weights int64 with `wgt` fractional bits
(rounded once from the shipped fp16 weights: an exact operation). Products are summed in float64
BLAS on integer-valued operands: every partial sum is an integer below 2**53, hence exact in any
order, on any thread count or vector unit. Rescaling is round-half-up division by a power of two.
"""
from __future__ import annotations

import numpy as np

#: Activations are clamped to |x| <= CLAMP_REAL (real units) so every accumulator stays < 2**53.
CLAMP_REAL = 1024
#: Output positions per im2col chunk (bounds memory for large images).
CHUNK = 8192


def quantise(a: np.ndarray, bits: int) -> np.ndarray:
    """round(a * 2**bits) as int64 (a: fp16-exact floats)."""
    return np.round(np.asarray(a, dtype=np.float64) * (1 << bits)).astype(np.int64)


def shift(acc: np.ndarray, bits: int) -> np.ndarray:
    """Round-half-up division of an integer-valued array by 2**bits, to int64."""
    return np.floor((np.asarray(acc, dtype=np.float64) + (1 << (bits - 1))) / (1 << bits)).astype(np.int64)


class IntNet:
    """Integer layers at fixed `act` / `wgt` fractional bits."""

    def __init__(self, act: int, wgt: int):
        self.act, self.wgt = act, wgt
        self.limit = CLAMP_REAL << act

    def clamp(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, -self.limit, self.limit)

    def weights(self, w: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(integer-valued float64 weights, bias at act+wgt bits) of a float layer."""
        bias = np.zeros(w.shape[0]) if b is None else b
        return quantise(w, self.wgt).astype(np.float64), quantise(bias, self.act + self.wgt).astype(np.float64)

    def linear(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """x (... x in) int64 -> (... x out) int64; w (out x in) and b from `weights`."""
        return self.clamp(shift(x.astype(np.float64) @ w.T + b, self.wgt))

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """'Same' zero-padded stride-1 convolution: x (C x H x W) int64, w (O x C x k x k).

        Taps whose weights are all zero (a masked kernel's) are skipped: their terms are zero, so
        the exact integer sums are the same; a 1x1 kernel is a plain matrix product."""
        o, c, k, _ = w.shape
        _, h, wd = x.shape
        if k == 1:
            return self.pointwise(x, w, b)
        p = k // 2
        taps = _taps(w)
        xp = np.pad(x.astype(np.float64), ((0, 0), (p, p), (p, p)))
        wm = w[:, :, taps[:, 0], taps[:, 1]].reshape(o, c * len(taps))
        out = np.empty((o, h * wd), dtype=np.int64)
        rows = max(1, CHUNK // max(1, wd))
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            cols = np.stack([xp[:, r0 + dy: r1 + dy, dx: dx + wd] for dy, dx in taps], 1)
            cols = cols.reshape(c * len(taps), (r1 - r0) * wd)
            out[:, r0 * wd: r1 * wd] = self.clamp(shift(wm @ cols + b[:, None], self.wgt))
        return out.reshape(o, h, wd)

    def conv_at(self, x: np.ndarray, w: np.ndarray, b: np.ndarray, at: np.ndarray) -> np.ndarray:
        """`conv` evaluated only where the H x W bool mask `at` is true: O x N, positions in
        row-major order (as `out[:, at]`), the same integers at a fraction of the work when only
        some outputs are needed (a checkerboard pass)."""
        o, c, k, _ = w.shape
        ys, xs = np.nonzero(at)
        if k == 1:
            return self.pointwise(x[:, ys, xs], w, b)
        p = k // 2
        taps = _taps(w)
        xp = np.pad(x.astype(np.float64), ((0, 0), (p, p), (p, p)))
        wm = w[:, :, taps[:, 0], taps[:, 1]].reshape(o, c * len(taps))
        out = np.empty((o, len(ys)), dtype=np.int64)
        for n0 in range(0, len(ys), CHUNK):
            y, xx = ys[n0: n0 + CHUNK], xs[n0: n0 + CHUNK]
            cols = xp[:, y[None] + taps[:, :1], xx[None] + taps[:, 1:]]  # C x taps x n
            out[:, n0: n0 + len(y)] = self.clamp(shift(wm @ cols.reshape(c * len(taps), -1) + b[:, None], self.wgt))
        return out

    def pointwise(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A 1x1 convolution of x (C x ...) int64 with w (O x C x 1 x 1): O x ... ."""
        o, c = w.shape[:2]
        flat = x.reshape(c, -1).astype(np.float64)
        out = np.empty((o, flat.shape[1]), dtype=np.int64)
        for n0 in range(0, flat.shape[1], CHUNK):
            part = flat[:, n0: n0 + CHUNK]
            out[:, n0: n0 + part.shape[1]] = self.clamp(shift(w.reshape(o, c) @ part + b[:, None], self.wgt))
        return out.reshape((o,) + x.shape[1:])


def _taps(w: np.ndarray) -> np.ndarray:
    """(dy, dx) offsets into the padded input of the kernel taps with a non-zero weight (T x 2)."""
    taps = np.argwhere(np.any(w != 0, axis=(0, 1)))
    return taps if len(taps) else np.zeros((1, 2), dtype=np.int64)  # all-zero kernel: bias only


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def upsample2(x: np.ndarray) -> np.ndarray:
    """Nearest-neighbour x2 of C x H x W."""
    return x.repeat(2, axis=1).repeat(2, axis=2)
