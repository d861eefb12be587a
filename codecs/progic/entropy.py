"""ProGIC's entropy models: each RVQ stage's indices under a marginal table, the first stages with
spatial context (a mixture of conditional tables given the decoded neighbours in the row above).

The coding itself is the shared `gic.codecs.learned.entropy`; this module says which table codes
which index.
"""
from __future__ import annotations

import numpy as np

from ..learned.entropy import (TableDecoder, TableEncoder, decode_symbols, encode_symbols,
                               frequency_table)

#: Causal neighbours in the previous latent row: up, up-left, up-right (dy, dx).
CONTEXT_OFFSETS = ((-1, 0), (-1, -1), (-1, 1))


def _row_freqs(stage_idx: np.ndarray, present: np.ndarray, y: int, cols: np.ndarray,
               cond: np.ndarray, marginal: np.ndarray) -> np.ndarray:
    """Integer frequency rows (len(cols) x K) for row y: the sum of the conditional tables of the
    neighbours in row y-1 that were coded, or the marginal where none was.

    A mixture of integer tables is exact integer arithmetic, so encoder and decoder agree bit
    for bit on any machine.
    """
    n, k = cols.size, marginal.size
    freq = np.zeros((n, k), dtype=np.int64)
    have = np.zeros(n, dtype=bool)
    if y > 0:
        h, w = present.shape
        for j, (_, dx) in enumerate(CONTEXT_OFFSETS):
            xs = cols + dx
            ok = (xs >= 0) & (xs < w)
            ok[ok] &= present[y - 1, xs[ok]]
            if ok.any():
                freq[ok] += cond[j][stage_idx[y - 1, xs[ok]]]
                have |= ok
    freq[~have] = marginal
    return freq


def encode_layer(stage_idx: np.ndarray, present: np.ndarray, marginal: np.ndarray,
                 cond: np.ndarray | None) -> bytes:
    """Range-code the indices of one RVQ stage at the `present` positions, in raster order.

    With `cond` (3 x K x K integer tables) each index is coded under a mixture conditioned on its
    decoded neighbours in the row above; without it, i.i.d. under the stage's marginal table.
    """
    if cond is None:
        return encode_symbols(stage_idx[present], marginal)
    enc = TableEncoder()
    for y in range(present.shape[0]):
        cols = np.flatnonzero(present[y])
        if cols.size:
            enc.encode(stage_idx[y, cols], _row_freqs(stage_idx, present, y, cols, cond, marginal))
    return enc.finish()


def decode_layer(payload: bytes, present: np.ndarray, marginal: np.ndarray, cond: np.ndarray | None,
                 out: np.ndarray, what: str = "layer") -> None:
    """Inverse of encode_layer: writes the decoded indices into `out` (h x w) at `present`."""
    if cond is None:
        out[present] = decode_symbols(payload, int(present.sum()), marginal, what)
        return
    dec = TableDecoder(payload, what)
    for y in range(present.shape[0]):
        cols = np.flatnonzero(present[y])
        if cols.size:
            out[y, cols] = dec.decode(_row_freqs(out, present, y, cols, cond, marginal))
    dec.finish()


def context_tables(stage_maps: list[np.ndarray], marginal_p: np.ndarray, alpha: float = 64.0,
                   uniform_mix: float = 0.01) -> np.ndarray:
    """Integer conditional tables (3 x K x K) for one stage from index maps of many images.

    p(s | c) = (n(c, s) + alpha * p(s)) / (n(c) + alpha): contexts seen rarely fall back to the
    marginal, so tables estimated from a few hundred images do not overfit.
    """
    k = marginal_p.size
    out = np.empty((len(CONTEXT_OFFSETS), k, k), dtype=np.int64)
    for j, (dy, dx) in enumerate(CONTEXT_OFFSETS):
        counts = np.zeros((k, k), dtype=np.float64)
        for a in stage_maps:
            h, w = a.shape
            ys, xs = np.mgrid[-dy:h, max(0, -dx):w - max(0, dx)]
            np.add.at(counts, (a[ys + dy, xs + dx].ravel(), a[ys, xs].ravel()), 1.0)
        p = (counts + alpha * marginal_p) / (counts.sum(1, keepdims=True) + alpha)
        p = (1 - uniform_mix) * p + uniform_mix / k
        out[j] = np.stack([frequency_table(row) for row in p])
    return out


def symbol_costs(stage_idx: np.ndarray, present: np.ndarray, marginal: np.ndarray,
                 cond: np.ndarray | None) -> np.ndarray:
    """Ideal code length (-log2 p, bits) of every present index under the model that codes it."""
    cost = np.zeros(present.shape, dtype=np.float64)
    for y in range(present.shape[0]):
        cols = np.flatnonzero(present[y])
        if not cols.size:
            continue
        if cond is None:
            freq = np.broadcast_to(marginal, (cols.size, marginal.size))
        else:
            freq = _row_freqs(stage_idx, present, y, cols, cond, marginal)
        f = np.take_along_axis(freq, stage_idx[y, cols][:, None].astype(np.int64), 1)[:, 0]
        cost[y, cols] = -np.log2(f / freq.sum(1))
    return cost
