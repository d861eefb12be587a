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
