"""Entropy coding of RVQ indices with constriction, from integer frequency tables.

Why integer tables: the encoder and the decoder must compute bit-identical probabilities on any
machine, thread count or device. Frequencies are integers stored with the weights; the float
probabilities handed to constriction are exact functions of them (one IEEE division each).
"""
from __future__ import annotations

import zlib

import constriction
import numpy as np

from ..errors import GicFormatError

#: Frequencies of every table sum to this (and every symbol gets at least 1).
TABLE_TOTAL = 1 << 16


def frequency_table(counts: np.ndarray, total: int = TABLE_TOTAL) -> np.ndarray:
    """Integer frequencies (>= 1 each, summing to `total`) proportional to non-negative counts."""
    counts = np.asarray(counts, dtype=np.float64)
    k = counts.shape[-1]
    p = counts / max(counts.sum(), 1e-12)
    freq = np.floor(p * (total - k)).astype(np.int64) + 1
    # hand the remainder to the largest entries, deterministically
    short = total - int(freq.sum())
    if short > 0:
        order = np.argsort(-p, kind="stable")[:short]
        freq[order] += 1
    return freq


def _model(freq: np.ndarray):
    probs = freq.astype(np.float64) / float(freq.sum())
    return constriction.stream.model.Categorical(probs, perfect=False)


def index_checksum(symbols: np.ndarray) -> int:
    """CRC32 of the decoded indices: detects a decoder that went astray instead of showing garbage."""
    return zlib.crc32(np.ascontiguousarray(symbols, dtype="<u2").tobytes())


def encode_symbols(symbols: np.ndarray, freq: np.ndarray) -> bytes:
    """Range-code integer symbols in [0, K) i.i.d. under one frequency table; prefix a CRC32."""
    symbols = np.ascontiguousarray(symbols, dtype=np.int32)
    enc = constriction.stream.queue.RangeEncoder()
    if symbols.size:
        enc.encode(symbols, _model(freq))
    words = enc.get_compressed().astype("<u4").tobytes()
    return index_checksum(symbols).to_bytes(4, "little") + words


def decode_symbols(payload: bytes, count: int, freq: np.ndarray, what: str = "layer") -> np.ndarray:
    """Inverse of encode_symbols; raises GicFormatError if the payload does not decode cleanly."""
    if len(payload) < 4 or (len(payload) - 4) % 4:
        raise GicFormatError(f"{what} has a malformed payload")
    check = int.from_bytes(payload[:4], "little")
    words = np.frombuffer(payload[4:], dtype="<u4").astype(np.uint32)
    try:
        dec = constriction.stream.queue.RangeDecoder(words)
        out = dec.decode(_model(freq), count) if count else np.zeros(0, dtype=np.int32)
    except Exception as exc:  # constriction raises plain exceptions on garbage input
        raise GicFormatError(f"{what} could not be decoded ({exc})") from None
    out = np.asarray(out, dtype=np.int64)
    if index_checksum(out) != check:
        raise GicFormatError(f"{what} failed its check value: decoded indices differ from the "
                             "encoder's (wrong weights, or a corrupt file)")
    return out


def ideal_bits(symbols: np.ndarray, freq: np.ndarray) -> float:
    """Cross-entropy of the symbols under the table, in bits: the rate the coder should approach."""
    p = freq.astype(np.float64) / freq.sum()
    return float(-np.log2(p[np.asarray(symbols, dtype=np.int64)]).sum())


# -- spatial context for the first stages -----------------------------------------------------
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
    enc = constriction.stream.queue.RangeEncoder()
    family = constriction.stream.model.Categorical(perfect=False)
    symbols_all = []
    for y in range(present.shape[0]):
        cols = np.flatnonzero(present[y])
        if not cols.size:
            continue
        freq = _row_freqs(stage_idx, present, y, cols, cond, marginal)
        probs = freq / freq.sum(1, keepdims=True).astype(np.float64)
        symbols = stage_idx[y, cols].astype(np.int32)
        enc.encode(symbols, family, probs)
        symbols_all.append(symbols)
    flat = np.concatenate(symbols_all) if symbols_all else np.zeros(0, np.int32)
    return index_checksum(flat).to_bytes(4, "little") + enc.get_compressed().astype("<u4").tobytes()


def decode_layer(payload: bytes, present: np.ndarray, marginal: np.ndarray, cond: np.ndarray | None,
                 out: np.ndarray, what: str = "layer") -> None:
    """Inverse of encode_layer: writes the decoded indices into `out` (h x w) at `present`."""
    if cond is None:
        out[present] = decode_symbols(payload, int(present.sum()), marginal, what)
        return
    if len(payload) < 4 or (len(payload) - 4) % 4:
        raise GicFormatError(f"{what} has a malformed payload")
    check = int.from_bytes(payload[:4], "little")
    words = np.frombuffer(payload[4:], dtype="<u4").astype(np.uint32)
    family = constriction.stream.model.Categorical(perfect=False)
    decoded = []
    try:
        dec = constriction.stream.queue.RangeDecoder(words)
        for y in range(present.shape[0]):
            cols = np.flatnonzero(present[y])
            if not cols.size:
                continue
            freq = _row_freqs(out, present, y, cols, cond, marginal)
            probs = freq / freq.sum(1, keepdims=True).astype(np.float64)
            row = np.asarray(dec.decode(family, probs), dtype=np.int64)
            out[y, cols] = row
            decoded.append(row)
    except Exception as exc:  # constriction raises plain exceptions on garbage input
        raise GicFormatError(f"{what} could not be decoded ({exc})") from None
    flat = np.concatenate(decoded) if decoded else np.zeros(0, np.int64)
    if index_checksum(flat) != check:
        raise GicFormatError(f"{what} failed its check value: decoded indices differ from the "
                             "encoder's (wrong weights, or a corrupt file)")


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
