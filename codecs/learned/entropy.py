"""Entropy coding for learned codecs with constriction, from integer frequency tables.

Why integer tables: the encoder and the decoder must compute bit-identical probabilities on any
machine, thread count or device. Frequencies are integers (stored with the weights, or computed
by exact integer arithmetic); the float probabilities handed to constriction are exact functions
of them (one IEEE division each).

Two ways to code categorical symbols, both ending in the same payload layout (a CRC32 of the
symbols, then the range coder's 32-bit words; `TableEncoder` can also end on a byte and leave the
CRC out, for codecs whose files are a few hundred bytes):

- `encode_symbols` / `decode_symbols`: i.i.d. symbols under one table (a marginal prior);
- `TableEncoder` / `TableDecoder`: a stream of chunks, each under one shared table or a table per
  symbol (a learned or context prior; the decoder computes the next chunk's tables from what it
  decoded so far).

Conditional Gaussian/Laplace coding (hyperprior families) goes through the per-symbol variant:
`scale_tables` turns a fixed list of scales into integer tables once, and each symbol is coded
under the table of its quantised scale (`scale_index`), so no float of the network reaches the coder.
"""
from __future__ import annotations

import math
import zlib
from typing import Iterator

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


def _row_probs(freq: np.ndarray) -> np.ndarray:
    """Per-symbol probabilities (N x K float64) from per-symbol integer tables (N x K)."""
    return freq / freq.sum(1, keepdims=True).astype(np.float64)


def index_checksum(symbols: np.ndarray, crc: int = 0) -> int:
    """CRC32 of the decoded indices: detects a decoder that went astray instead of showing garbage.
    `crc`: the value of the indices before these (so a stream's chunks need not be kept)."""
    return zlib.crc32(np.ascontiguousarray(symbols, dtype="<u2").tobytes(), crc)


def _check_payload(payload: bytes, what: str) -> tuple[int, np.ndarray]:
    if len(payload) < 4 or (len(payload) - 4) % 4:
        raise GicFormatError(f"{what} has a malformed payload")
    return int.from_bytes(payload[:4], "little"), np.frombuffer(payload[4:], dtype="<u4").astype(np.uint32)


def _check_symbols(symbols: np.ndarray, check: int, what: str) -> None:
    _check_crc(index_checksum(symbols), check, what)


def _check_crc(crc: int, check: int, what: str) -> None:
    if crc != check:
        raise GicFormatError(f"{what} failed its check value: decoded indices differ from the "
                             "encoder's (wrong weights, or a corrupt file)")


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
    check, words = _check_payload(payload, what)
    try:
        dec = constriction.stream.queue.RangeDecoder(words)
        out = dec.decode(_model(freq), count) if count else np.zeros(0, dtype=np.int32)
    except Exception as exc:  # constriction raises plain exceptions on garbage input
        raise GicFormatError(f"{what} could not be decoded ({exc})") from None
    out = np.asarray(out, dtype=np.int64)
    _check_symbols(out, check, what)
    return out


def _padded_words(payload: bytes) -> np.ndarray:
    """A byte-granular payload as the coder's words: big-endian, zero bytes appended to a whole
    word and one zero word more (what the encoder's trimming verified against)."""
    tail = b"\0" * ((-len(payload)) % 4 + 4)
    return np.frombuffer(payload + tail, dtype=">u4").astype(np.uint32)


def _shorter(data: bytes, limit: int) -> Iterator[bytes]:
    """Prefixes of `data` at most `limit` bytes shorter, shortest first: each as cut, then with
    its last byte rounded up (a range coder's final point may lie just above the cut value)."""
    for k in range(max(0, len(data) - limit), len(data)):
        head = data[:k]
        yield head
        if k:
            up = int.from_bytes(head, "big") + 1
            if up < 1 << (8 * k):
                yield up.to_bytes(k, "big")


class TableEncoder:
    """Range-codes chunks of symbols, each chunk under per-symbol integer tables (N x K).

    `checksum=False` leaves out the CRC32 of the symbols (4 bytes a payload): for codecs at a few
    hundred bytes a file whose decoder determinism is guarded otherwise (the container's chunk
    CRCs catch damage; the model hash catches other weights).

    `byte_aligned=True` ends the payload on a byte, not a 32-bit word: the coder's words are
    written big-endian and cut to the shortest prefix (perhaps with its last byte rounded up) that
    the decoder, reading zeros past the end, still decodes to the same symbols -- checked by
    decoding it here. Why: a range coder's flush costs ~18 bits on average in whole words, ~2.5 in
    bytes; a codec of 7 layers in ~1 KB paid 2.5 % for it."""

    def __init__(self, checksum: bool = True, byte_aligned: bool = False) -> None:
        self.checksum = checksum
        self.byte_aligned = byte_aligned
        self._enc = constriction.stream.queue.RangeEncoder()
        self._family = constriction.stream.model.Categorical(perfect=False)
        self._symbols: list[np.ndarray] = []
        self._tables: list[np.ndarray] = []  # for the byte-aligned trim's check, as compact integers

    def encode(self, symbols: np.ndarray, freq: np.ndarray) -> None:
        """Code symbols[i] under the integer table freq[i] (len(symbols) x K)."""
        symbols = np.ascontiguousarray(symbols, dtype=np.int32)
        if not symbols.size:
            return
        self._enc.encode(symbols, self._family, _row_probs(freq))
        self._symbols.append(symbols)
        if self.byte_aligned:  # uint16 where the frequencies fit: a quarter of int64's memory
            self._tables.append(freq.astype(np.uint16) if 0 <= freq.min() and freq.max() < 1 << 16 else freq)

    def _decodes(self, payload: bytes) -> bool:
        try:
            dec = constriction.stream.queue.RangeDecoder(_padded_words(payload))
            return all(np.array_equal(dec.decode(self._family, _row_probs(t.astype(np.int64))), s)
                       for s, t in zip(self._symbols, self._tables))
        except Exception:  # noqa: BLE001 - a cut that does not decode is simply not taken
            return False

    def _trimmed(self, words: np.ndarray) -> bytes:
        full = words.astype(">u4").tobytes()
        return next((c for c in _shorter(full, 8) if self._decodes(c)), full)

    def finish(self) -> bytes:
        """The payload: CRC32 of every symbol coded (if asked), then the coder's words."""
        compressed = self._enc.get_compressed()
        words = self._trimmed(compressed) if self.byte_aligned else compressed.astype("<u4").tobytes()
        if not self.checksum:
            return words
        flat = np.concatenate(self._symbols) if self._symbols else np.zeros(0, np.int32)
        return index_checksum(flat).to_bytes(4, "little") + words


class TableDecoder:
    """Inverse of TableEncoder: `decode(freq)` per chunk, in the encoder's order, then `finish()`."""

    def __init__(self, payload: bytes, what: str = "layer", checksum: bool = True,
                 byte_aligned: bool = False) -> None:
        self.what = what
        if checksum and byte_aligned:
            if len(payload) < 4:
                raise GicFormatError(f"{what} has a malformed payload")
            self._check, words = int.from_bytes(payload[:4], "little"), _padded_words(payload[4:])
        elif checksum:
            self._check, words = _check_payload(payload, what)
        elif byte_aligned:
            self._check, words = None, _padded_words(payload)
        else:
            if len(payload) % 4:
                raise GicFormatError(f"{what} has a malformed payload")
            self._check, words = None, np.frombuffer(payload, dtype="<u4").astype(np.uint32)
        self._family = constriction.stream.model.Categorical(perfect=False)
        self._crc = 0  # of the symbols decoded so far
        try:
            self._dec = constriction.stream.queue.RangeDecoder(words)
        except Exception as exc:  # noqa: BLE001 - constriction's plain exceptions on garbage
            raise GicFormatError(f"{what} could not be decoded ({exc})") from None

    def decode(self, freq: np.ndarray) -> np.ndarray:
        """len(freq) symbols, symbol i under the integer table freq[i]."""
        if not len(freq):
            return np.zeros(0, np.int64)
        try:
            out = np.asarray(self._dec.decode(self._family, _row_probs(freq)), dtype=np.int64)
        except Exception as exc:  # noqa: BLE001 - constriction's plain exceptions on garbage
            raise GicFormatError(f"{self.what} could not be decoded ({exc})") from None
        self._crc = index_checksum(out, self._crc)
        return out

    def finish(self) -> None:
        """Raise GicFormatError unless the symbols decoded match the encoder's check value."""
        if self._check is not None:
            _check_crc(self._crc, self._check, self.what)


def ideal_bits(symbols: np.ndarray, freq: np.ndarray) -> float:
    """Cross-entropy of the symbols under the table, in bits: the rate the coder should approach."""
    p = freq.astype(np.float64) / freq.sum()
    return float(-np.log2(p[np.asarray(symbols, dtype=np.int64)]).sum())


# -- conditional coding of integer latents under a Gaussian or Laplace of known scale ----------
def _cdf(kind: str, x: np.ndarray, scale: float) -> np.ndarray:
    if kind == "gaussian":
        erf = np.vectorize(math.erf, otypes=[np.float64])
        return 0.5 * (1.0 + erf(x / (scale * math.sqrt(2.0))))
    if kind == "laplace":
        return np.where(x < 0, 0.5 * np.exp(x / scale), 1.0 - 0.5 * np.exp(-x / scale))
    raise ValueError(f"unknown distribution {kind!r}: 'gaussian' or 'laplace'")


def scale_tables(scales: np.ndarray, support: int, kind: str = "gaussian",
                 total: int = TABLE_TOTAL) -> np.ndarray:
    """Integer tables (len(scales) x 2*support+1) of a zero-mean integer latent in [-support, support]
    under a discretised Gaussian or Laplace of each scale (the tails folded into the end bins).

    Computed once per weight file (and best stored in it): the coder then sees only integers,
    whatever float differences the network has across machines.
    """
    edges = np.arange(-support, support + 2, dtype=np.float64) - 0.5
    out = []
    for s in np.asarray(scales, dtype=np.float64):
        c = _cdf(kind, edges, float(s))
        p = np.diff(c)
        p[0] += c[0]
        p[-1] += 1.0 - c[-1]
        out.append(frequency_table(p, total))
    return np.stack(out)


def scale_index(scales: np.ndarray, table_scales: np.ndarray) -> np.ndarray:
    """Index of the smallest table scale >= each predicted scale (the last one past the end)."""
    idx = np.searchsorted(np.asarray(table_scales, dtype=np.float64), np.asarray(scales, np.float64))
    return np.minimum(idx, len(table_scales) - 1)


# -- symbols grouped by a fixed set of tables (conditional coding of large latents) -------------
class TableSet:
    """A fixed set of integer tables (K x S, e.g. one per quantised scale, or per channel), their
    constriction models built once. Coding a few hundred thousand latents under per-symbol tables
    would need a table per symbol; grouping symbols by table index needs only K models."""

    def __init__(self, freq: np.ndarray):
        self.freq = np.asarray(freq, dtype=np.int64)
        self._models: dict[int, object] = {}

    def __len__(self) -> int:
        return len(self.freq)

    @property
    def size(self) -> int:
        return self.freq.shape[1]

    def model(self, k: int):
        if k not in self._models:
            self._models[k] = _model(self.freq[k])
        return self._models[k]


def table_groups(idx: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(table index, its positions in the flat `idx`) for each index present, both ascending: the
    order of GroupedEncoder's chunks. One stable sort instead of a pass over idx per table (and
    no np.unique, whose first call imports numpy.ma: 20 ms of a cold decode)."""
    order = np.argsort(idx, kind="stable")
    ranked = idx[order]
    cuts = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
    starts, ends = np.r_[0, cuts], np.r_[cuts, len(ranked)]
    return [(int(ranked[a]), order[a:b]) for a, b in zip(starts, ends)] if len(ranked) else []


def _flat_index(idx: np.ndarray) -> np.ndarray:
    """Table indices, flat, in their own integer type (a large latent's uint8 indices would be
    8x the memory as int64; the stable sort orders them the same)."""
    idx = np.asarray(idx)
    return (idx if np.issubdtype(idx.dtype, np.integer) else idx.astype(np.int64)).ravel()


class GroupedEncoder:
    """Range-codes chunks of symbols, symbol i of a chunk under table idx[i] of a TableSet, in the
    order (table index ascending, then position): the decoder knows every index of a chunk before
    it decodes it, so it can follow. Payload as TableEncoder's: a CRC32 of the symbols, then words."""

    def __init__(self) -> None:
        self._enc = constriction.stream.queue.RangeEncoder()
        self._crc = 0  # of the symbols coded so far (a large latent's symbols are not kept)

    def encode(self, symbols: np.ndarray, idx: np.ndarray, tables: TableSet) -> None:
        symbols = np.asarray(symbols, dtype=np.int32).ravel()
        idx = _flat_index(idx)
        if symbols.size and (symbols.min() < 0 or symbols.max() >= tables.size):
            raise ValueError("symbol outside its tables' range")
        for k, where in table_groups(idx):
            part = np.ascontiguousarray(symbols[where])
            self._enc.encode(part, tables.model(k))
            self._crc = index_checksum(part, self._crc)

    def finish(self) -> bytes:
        words = self._enc.get_compressed().astype("<u4").tobytes()
        return self._crc.to_bytes(4, "little") + words


class GroupedDecoder:
    """Inverse of GroupedEncoder: `decode(idx, tables)` per chunk, in the encoder's order, then `finish()`."""

    def __init__(self, payload: bytes, what: str = "layer") -> None:
        self.what = what
        self._check, words = _check_payload(payload, what)
        self._crc = 0
        try:
            self._dec = constriction.stream.queue.RangeDecoder(words)
        except Exception as exc:  # noqa: BLE001 - constriction's plain exceptions on garbage
            raise GicFormatError(f"{what} could not be decoded ({exc})") from None

    def decode(self, idx: np.ndarray, tables: TableSet) -> np.ndarray:
        """Symbols shaped like idx (int32), symbol i under table idx[i]."""
        flat_idx = _flat_index(idx)
        out = np.zeros(flat_idx.shape, dtype=np.int32)
        for k, where in table_groups(flat_idx):
            try:
                part = np.asarray(self._dec.decode(tables.model(k), len(where)), dtype=np.int32)
            except Exception as exc:  # noqa: BLE001 - constriction's plain exceptions on garbage
                raise GicFormatError(f"{self.what} could not be decoded ({exc})") from None
            out[where] = part
            self._crc = index_checksum(part, self._crc)
        return out.reshape(np.shape(idx))

    def finish(self) -> None:
        _check_crc(self._crc, self._check, self.what)
