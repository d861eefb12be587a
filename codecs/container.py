"""The .gic container: a versioned header, then PNG-like chunks (one per progressive layer).

Why this shape: every chunk carries its length and a CRC32, so a reader can stop at the last
complete layer of a file that was cut short (a preview from partial data) and name the chunk that
is damaged. The spec lives in docs/format.md; keep the two in step.

Reading never trusts a length from the file before checking it against the data actually present
and against fixed limits, and the only exception it lets out is GicFormatError.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .errors import GicFormatError, ModelMismatchError
from .limits import check_pixels

MAGIC = b"\x89GIC\r\n\x1a\n"  # PNG-style: high bit, name, CRLF/LF and ^Z catch text-mode damage
FORMAT_VERSION = 1

MAX_SIDE = 65535
MAX_PIXELS = 2 ** 28
MAX_NAME_BYTES = 64
HASH_BYTES = 16
MAX_LAYERS = 255
MAX_CHUNK = 2 ** 32 - 1

_PREFIX = struct.Struct("<8sHIIB")  # magic, version, width, height, num_layers
_U8 = struct.Struct("<B")
_U32 = struct.Struct("<I")
_CHUNK_HEAD = struct.Struct("<4sI")  # type, payload length

PARM, ROIM, META, LAYR, IEND = b"PARM", b"ROIM", b"META", b"LAYR", b"IEND"
_CHUNK_NAMES = {PARM: "parameter chunk (PARM)", ROIM: "ROI mask chunk (ROIM)",
                META: "metadata chunk (META)", IEND: "end chunk (IEND)"}


@dataclass(frozen=True)
class Header:
    """The fixed header: who wrote the file, for which image and which model weights."""

    width: int
    height: int
    codec: str  # registry name, ASCII, 1..64 bytes
    model_id: str  # UTF-8, 0..64 bytes ("" for codecs without a model)
    model_hash: bytes  # first 16 bytes of sha256 of the weights; b"\0" * 16 if none
    num_layers: int  # layers announced, 1..255
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        # Validated here so neither pack() nor unpack() can ever hand out an impossible header.
        if isinstance(self.model_hash, (bytearray, memoryview)):
            object.__setattr__(self, "model_hash", bytes(self.model_hash))
        _check_header(self)


def _check_header(h: Header) -> None:
    for name in ("width", "height", "num_layers", "version"):
        v = getattr(h, name)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise GicFormatError(f"header {name} must be an integer, got {v!r}")
        object.__setattr__(h, name, int(v))
    if not 1 <= h.width <= MAX_SIDE or not 1 <= h.height <= MAX_SIDE:
        raise GicFormatError(f"image size {h.width}x{h.height} is outside 1..{MAX_SIDE} per side")
    if h.width * h.height > MAX_PIXELS:
        raise GicFormatError(f"image size {h.width}x{h.height} exceeds the limit of {MAX_PIXELS} pixels")
    if not 1 <= h.num_layers <= MAX_LAYERS:
        raise GicFormatError(f"number of layers must be in 1..{MAX_LAYERS}, got {h.num_layers}")
    if not 1 <= h.version <= FORMAT_VERSION:
        raise GicFormatError(f"unsupported file format version {h.version}")
    if not isinstance(h.codec, str) or not h.codec.isascii() or not h.codec.isprintable() \
            or not 1 <= len(h.codec) <= MAX_NAME_BYTES:
        raise GicFormatError(f"codec name must be 1..{MAX_NAME_BYTES} printable ASCII characters, "
                             f"got {h.codec!r}")
    if not isinstance(h.model_id, str) or len(_utf8(h.model_id, "model id")) > MAX_NAME_BYTES:
        raise GicFormatError(f"model id must be a string of at most {MAX_NAME_BYTES} UTF-8 bytes, "
                             f"got {h.model_id!r}")
    if not isinstance(h.model_hash, bytes) or len(h.model_hash) != HASH_BYTES:
        raise GicFormatError(f"model hash must be exactly {HASH_BYTES} bytes")


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise GicFormatError(f"{what} is not valid Unicode text") from None


@dataclass
class GicFile:
    """What unpack() found: the header and every complete, CRC-verified chunk."""

    header: Header
    layers: list[bytes]  # payloads of the complete layer chunks, in order
    params: dict  # codec parameters (PARM), may be {}
    roi: np.ndarray | None  # HxW bool mask at image resolution, or None
    metadata: dict = field(default_factory=dict)  # META chunk, {} if absent
    total_bytes: int = 0  # bytes consumed, up to the end of the last complete chunk
    layer_offsets: list[int] = field(default_factory=list)  # end offset of each layer chunk

    @property
    def partial(self) -> bool:
        """True when the file holds fewer layers than its header announced (it was cut short)."""
        return len(self.layers) < self.header.num_layers


def hash_weights(data: bytes) -> bytes:
    """The 16-byte model hash stored in headers: the first 16 bytes of sha256(weights file)."""
    return hashlib.sha256(data).digest()[:HASH_BYTES]


# -- writing --------------------------------------------------------------------------------------
def _chunk(ctype: bytes, payload: bytes) -> bytes:
    if len(payload) > MAX_CHUNK:
        raise GicFormatError(f"cannot write .gic: {ctype.decode()} chunk of {len(payload)} bytes "
                             f"exceeds {MAX_CHUNK}")
    return _CHUNK_HEAD.pack(ctype, len(payload)) + payload + _U32.pack(zlib.crc32(payload, zlib.crc32(ctype)))


def _json_bytes(obj: dict | None, what: str) -> bytes:
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise GicFormatError(f"cannot write .gic: {what} must be a dict, got {type(obj).__name__}")
    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise GicFormatError(f"cannot write .gic: {what} are not JSON-serialisable ({e})") from None
    return text.encode("utf-8")


def _header_bytes(h: Header) -> bytes:
    codec = h.codec.encode("ascii")
    model = h.model_id.encode("utf-8")
    body = (_PREFIX.pack(MAGIC, h.version, h.width, h.height, h.num_layers)
            + _U8.pack(len(codec)) + codec + _U8.pack(len(model)) + model + h.model_hash)
    return body + _U32.pack(zlib.crc32(body))


def _roi_payload(roi: np.ndarray, h: Header) -> bytes:
    mask = np.asarray(roi)
    if mask.shape != (h.height, h.width):
        raise GicFormatError(f"cannot write .gic: ROI mask has shape {mask.shape}, "
                             f"expected {(h.height, h.width)} (height, width)")
    return zlib.compress(np.packbits(mask.astype(bool).ravel()).tobytes(), 9)


def pack(header: Header, layers: Sequence[bytes], *, params: dict | None = None,
         roi: np.ndarray | None = None, metadata: dict | None = None) -> bytes:
    """Serialise a complete .gic file: header, PARM, [ROIM], [META], one LAYR per layer, IEND."""
    if not isinstance(header, Header):
        raise GicFormatError("cannot write .gic: header must be a container.Header")
    if header.version != FORMAT_VERSION:
        raise GicFormatError(f"cannot write .gic: this gic writes format version {FORMAT_VERSION} only")
    layers = list(layers)
    if len(layers) != header.num_layers:
        raise GicFormatError(f"cannot write .gic: header announces {header.num_layers} layers, "
                             f"got {len(layers)}")
    parts = [_header_bytes(header), _chunk(PARM, _json_bytes(params, "params"))]
    if roi is not None:
        parts.append(_chunk(ROIM, _roi_payload(roi, header)))
    if metadata:
        parts.append(_chunk(META, _json_bytes(metadata, "metadata")))
    for i, layer in enumerate(layers, 1):
        if not isinstance(layer, (bytes, bytearray, memoryview)):
            raise GicFormatError(f"cannot write .gic: layer {i} is {type(layer).__name__}, not bytes")
        parts.append(_chunk(LAYR, bytes(layer)))
    parts.append(_chunk(IEND, b""))
    return b"".join(parts)


# -- reading --------------------------------------------------------------------------------------
def _as_bytes(data) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return memoryview(data).tobytes()
    except TypeError:
        raise GicFormatError(f"expected bytes, got {type(data).__name__}") from None


def is_gic(data: bytes) -> bool:
    """True when data starts with the .gic magic. Never raises."""
    try:
        return bytes(memoryview(data)[: len(MAGIC)]) == MAGIC
    except Exception:  # noqa: BLE001 - a yes/no sniffing helper must not fail on odd input
        return False


def _parse_header(buf: bytes) -> tuple[Header, int]:
    """Parse and verify the fixed header; return it and the offset of the first chunk."""
    if len(buf) < len(MAGIC):
        if not buf:
            raise GicFormatError("not a .gic file (it is empty)")
        if MAGIC.startswith(buf):
            raise GicFormatError("truncated header")
        raise GicFormatError("not a .gic file (bad magic)")
    if buf[: len(MAGIC)] != MAGIC:
        raise GicFormatError("not a .gic file (bad magic)")
    if len(buf) < len(MAGIC) + 2:
        raise GicFormatError("truncated header")
    # The magic and the version field never move, so a newer file is recognised before its layout.
    (version,) = struct.unpack_from("<H", buf, len(MAGIC))
    if version > FORMAT_VERSION:
        raise GicFormatError(f"file format version {version} is newer than this gic "
                             f"({FORMAT_VERSION}); upgrade gic")
    if version < 1:
        raise GicFormatError(f"unsupported file format version {version}")
    if len(buf) < _PREFIX.size:
        raise GicFormatError("truncated header")
    _, _, width, height, num_layers = _PREFIX.unpack_from(buf)
    pos = _PREFIX.size
    names = []
    for _ in range(2):
        if pos + 1 > len(buf):
            raise GicFormatError("truncated header")
        n = buf[pos]
        pos += 1
        if n > MAX_NAME_BYTES:
            raise GicFormatError(f"header names a {n}-byte string (limit {MAX_NAME_BYTES}): corrupt header")
        if pos + n > len(buf):
            raise GicFormatError("truncated header")
        names.append(buf[pos: pos + n])
        pos += n
    if pos + HASH_BYTES + 4 > len(buf):
        raise GicFormatError("truncated header")
    model_hash = buf[pos: pos + HASH_BYTES]
    pos += HASH_BYTES
    (crc,) = _U32.unpack_from(buf, pos)
    if zlib.crc32(buf[:pos]) != crc:
        raise GicFormatError("header is corrupt (CRC mismatch)")
    pos += 4
    try:
        codec, model_id = names[0].decode("ascii"), names[1].decode("utf-8")
    except UnicodeDecodeError:
        raise GicFormatError("header has a codec name or model id that is not text") from None
    header = Header(width=width, height=height, codec=codec, model_id=model_id,
                    model_hash=model_hash, num_layers=num_layers, version=version)
    check_pixels(width, height, "the image of this .gic file", GicFormatError)  # before any ROI or decode
    return header, pos


def read_header(data: bytes) -> Header:
    """Read only the fixed header (cheap: enough for `gic info` or to pick a codec)."""
    return _parse_header(_as_bytes(data))[0]


def _chunk_name(ctype: bytes, layer_no: int) -> str:
    if ctype == LAYR:
        return f"layer {layer_no}"
    return _CHUNK_NAMES.get(ctype, f"chunk {ctype.decode('ascii')!r}")


def _reject_constant(word: str) -> float:
    raise ValueError(f"{word} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses to inf: the writer never writes it
        raise ValueError(f"{text} is out of range")
    return value


def _parse_json(payload: bytes, name: str) -> dict:
    """Strict JSON, as the writer writes it (allow_nan=False): no NaN, Infinity or 1e400."""
    try:
        obj = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant,
                         parse_float=_finite_float)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise GicFormatError(f"{name} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise GicFormatError(f"{name} is not a JSON object")
    return obj


def _parse_roi(payload: bytes, h: Header) -> np.ndarray:
    n_pixels = h.width * h.height
    expected = (n_pixels + 7) // 8  # bounded by MAX_PIXELS / 8 = 32 MiB
    d = zlib.decompressobj()
    try:
        packed = d.decompress(payload, expected + 1)  # max_length: a zip bomb stops here
    except zlib.error:
        raise GicFormatError("ROI mask chunk (ROIM) cannot be decompressed") from None
    if len(packed) != expected or not d.eof or d.unused_data or d.unconsumed_tail:
        raise GicFormatError(f"ROI mask chunk (ROIM) does not hold a {h.width}x{h.height} mask")
    bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=n_pixels)
    return bits.astype(bool).reshape(h.height, h.width)


def _is_chunk_type(ctype: bytes) -> bool:
    return all(65 <= c <= 90 or 97 <= c <= 122 for c in ctype)


def unpack(data: bytes) -> GicFile:
    """Parse a .gic file, tolerating a cut inside or after the layer chunks (then `partial`).

    A cut before the first LAYR chunk, a CRC mismatch, an unknown critical chunk, chunks out of
    order or a newer format version raise GicFormatError (the only exception that escapes).
    """
    buf = _as_bytes(data)
    header, pos = _parse_header(buf)
    params: dict | None = None
    roi: np.ndarray | None = None
    metadata: dict | None = None
    layers: list[bytes] = []
    offsets: list[int] = []
    in_layers = False  # from the first LAYR type on, a cut means "partial", not "corrupt"
    size = len(buf)
    while True:
        if size - pos < _CHUNK_HEAD.size:
            if not in_layers and size - pos >= 4 and buf[pos: pos + 4] == LAYR and params is not None:
                in_layers = True
            if in_layers:
                break
            raise GicFormatError("truncated header" if params is None else
                                 "truncated file: it ends before the first layer")
        ctype, length = _CHUNK_HEAD.unpack_from(buf, pos)
        if not _is_chunk_type(ctype):
            raise GicFormatError(f"corrupt chunk type at byte {pos}")
        name = _chunk_name(ctype, len(layers) + 1)
        if ctype == LAYR:
            if params is None:
                raise GicFormatError("layer chunk before the parameter chunk (PARM)")
            in_layers = True
        if length > size - pos - _CHUNK_HEAD.size - 4:  # checked before any slicing or allocation
            if in_layers:
                break
            raise GicFormatError("truncated header" if ctype == PARM or params is None
                                 else f"truncated file: {name} is cut short")
        start = pos + _CHUNK_HEAD.size
        payload = buf[start: start + length]
        (crc,) = _U32.unpack_from(buf, start + length)
        if zlib.crc32(payload, zlib.crc32(ctype)) != crc:
            raise GicFormatError(f"{name} is corrupt (CRC mismatch)")
        pos = start + length + 4
        if ctype == LAYR:
            if len(layers) >= header.num_layers:
                raise GicFormatError(f"file holds more layers than the {header.num_layers} it announces")
            layers.append(payload)
            offsets.append(pos)
        elif ctype == IEND:
            if params is None:
                raise GicFormatError("file has no parameter chunk (PARM)")
            if length:
                raise GicFormatError("end chunk (IEND) is not empty")
            if len(layers) != header.num_layers:
                raise GicFormatError(f"file ends after {len(layers)} of the {header.num_layers} "
                                     f"layers it announces")
            break
        elif ctype in (PARM, ROIM, META):
            if params is None and ctype != PARM:
                raise GicFormatError(f"{name} comes before the parameter chunk (PARM)")
            if in_layers:
                raise GicFormatError(f"{name} comes after the layers")
            if ctype == PARM:
                if params is not None:
                    raise GicFormatError("file has two parameter chunks (PARM)")
                params = _parse_json(payload, name)
            elif ctype == ROIM:
                if roi is not None:
                    raise GicFormatError("file has two ROI mask chunks (ROIM)")
                roi = _parse_roi(payload, header)
            else:
                if metadata is not None:
                    raise GicFormatError("file has two metadata chunks (META)")
                metadata = _parse_json(payload, name)
        elif ctype[0] >= 97:  # lowercase first letter: ancillary, safe to skip
            continue
        else:
            raise GicFormatError(f"unknown critical chunk {ctype.decode('ascii')!r} "
                                 f"(written by a newer gic?)")
    assert params is not None  # in_layers or IEND both require it
    return GicFile(header=header, layers=layers, params=params, roi=roi,
                   metadata=metadata if metadata is not None else {},
                   total_bytes=pos, layer_offsets=offsets)


def check_model(header: Header, model_id: str, model_hash: bytes,
                also: Iterable[tuple[str, bytes]] = ()) -> None:
    """Refuse to decode with weights other than those the file was written with, or weights that
    declare they read that model's bitstreams (`also`: a decoder upgrade with the same encoder,
    codebooks and entropy tables)."""
    if header.model_id == model_id and header.model_hash == bytes(model_hash):
        return
    if any(header.model_id == i and header.model_hash == bytes(h) for i, h in also):
        return
    raise ModelMismatchError(
        f"file was written by model {header.model_id!r} (weights {header.model_hash.hex()[:12]}) "
        f"but the loaded model is {model_id!r} (weights {bytes(model_hash).hex()[:12]}); "
        f"decode it with the matching weights")
