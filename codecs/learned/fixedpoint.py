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
        """'Same' zero-padded stride-1 convolution: x (C x H x W) int64, w (O x C x k x k)."""
        o, c, k, _ = w.shape
        _, h, wd = x.shape
        p = k // 2
        xp = np.pad(x.astype(np.float64), ((0, 0), (p, p), (p, p)))
        wm = w.reshape(o, c * k * k)
        out = np.empty((o, h * wd), dtype=np.int64)
        rows = max(1, CHUNK // max(1, wd))
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            cols = np.stack([xp[:, r0 + dy: r1 + dy, dx: dx + wd] for dy in range(k) for dx in range(k)], 1)
            cols = cols.reshape(c * k * k, (r1 - r0) * wd)
            out[:, r0 * wd: r1 * wd] = self.clamp(shift(wm @ cols + b[:, None], self.wgt))
        return out.reshape(o, h, wd)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def upsample2(x: np.ndarray) -> np.ndarray:
    """Nearest-neighbour x2 of C x H x W."""
    return x.repeat(2, axis=1).repeat(2, axis=2)
