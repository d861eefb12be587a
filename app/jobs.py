"""The work the app does in background threads, as plain functions of a JobContext (no Qt here).

Each function is submitted to a `workers.JobRunner`; it checks `ctx.check()` between steps (layers,
encodes) so that opening another file or closing the window stops it promptly.
"""
from __future__ import annotations

import importlib.metadata
import itertools
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from gic.codecs import provenance, registry
from gic.codecs.base import Codec, Preview, bits_per_pixel, roi_bits
from gic.codecs.errors import CodecError, GicError, GicFormatError

from .prefetch import take as take_prefetched


class Ctx(Protocol):
    def check(self) -> None: ...
    def progress(self, fraction: float) -> bool: ...
    def emit(self, payload: Any) -> None: ...
    def cancelled(self) -> bool: ...


# -- codecs, created once per (name, device) ---------------------------------------------------------
_codecs: dict[tuple[str, str], Codec] = {}
_codecs_lock = threading.Lock()


def get_codec(name: str, device: str = "cpu") -> Codec:
    """A shared codec instance (learned codecs load their weights once; call from a worker)."""
    key = (name, device)
    with _codecs_lock:
        if key not in _codecs:
            _codecs[key] = registry.create(name, device=device)
        return _codecs[key]


def cuda_available() -> bool:
    """Whether torch can run on a GPU here. A CPU-only torch build says so in its version
    ("2.13.0+cpu"): then no `import torch` (seconds) just to learn it."""
    if "torch" not in sys.modules:
        try:
            if importlib.metadata.version("torch").endswith("+cpu"):
                return False
        except importlib.metadata.PackageNotFoundError:
            return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


# -- files ---------------------------------------------------------------------------------------------
def is_image_path(path: str | Path) -> bool:
    from gic.codecs.imageio import is_image_path as named_like_an_image

    return named_like_an_image(path)


def load_image(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 (the library's reader: same conversion rules as the CLI)."""
    from gic.codecs import imageio

    return imageio.load_image(path)


def load_image_info(path: str | Path):
    """load_image, also saying whether transparency was flattened (imageio.LoadedImage)."""
    from gic.codecs import imageio

    return imageio.load_image_info(path)


def alpha_note(name: str) -> str:
    from gic.codecs import imageio

    return imageio.alpha_note(name)


def read_file(path: str | Path) -> bytes:
    from gic.codecs import fileio

    return fileio.read_bytes(path)


def write_file(path: str | Path, data: bytes) -> None:
    from gic.codecs import fileio

    fileio.write_atomic(path, data)


# -- decoding ------------------------------------------------------------------------------------------
@dataclass
class FileInfo:
    """What the container says about a file, sent before the first layer."""

    codec: str
    width: int
    height: int
    num_layers: int
    size: int  # bytes
    partial: bool
    roi: np.ndarray | None
    metadata: dict
    model_id: str = ""


@dataclass
class DecodeResult:
    layers: int
    partial: bool
    seconds: float
    roi_bits: tuple[int, int] | None = None  # bits inside / outside the stored ROI, when the codec can tell


def decode_job(ctx: Ctx, data: bytes, device: str = "cpu", codec: str | None = None) -> DecodeResult:
    """Decode layer by layer: emits a FileInfo, then one Preview per layer.

    .gic files name their codec in the header; other bytes (JPEG, WebP... from a re-encode) need
    `codec` (else a downscaled-codec file names its own) and decode as a single layer.
    """
    from gic.codecs import opening

    t0 = time.perf_counter()
    roi = None
    opened = opening.open_bytes(data)
    if opened.is_gic:
        gic = opened.gic
        header = gic.header
        roi = gic.roi
        info = FileInfo(codec=header.codec, width=header.width, height=header.height,
                        num_layers=header.num_layers, size=len(data), partial=bool(gic.partial),
                        roi=roi, metadata=dict(gic.metadata or {}), model_id=str(header.model_id))
    elif codec is not None or opened.reader is not None:
        info = None
        codec = codec or opened.codec
    else:
        raise GicFormatError("not a .gic file (bad magic bytes)")
    name = info.codec if info is not None else codec
    if name not in registry.names():
        if info is not None:
            ctx.emit(info)
        raise CodecError(f"this file needs codec {name!r}, which is not installed")
    if info is not None:
        ctx.emit(info)
    ctx.check()
    early = take_prefetched(data, ctx.progress) if device == "cpu" and info is not None else None
    if early is not None:  # `gic view` began this file's decode at launch: go on with it
        dec, layers = early.codec, itertools.chain([early.first], early.layers)
    else:
        dec = get_codec(name, device)
        # the codec reports progress per step (tile, pass, layer) and stops at its next step on a cancel
        layers = dec.decode_progressive(data, progress=ctx.progress)
    ctx.check()
    n = 0
    partial = bool(info.partial) if info is not None else False
    for preview in layers:
        ctx.check()
        if info is None:  # a single-layer format: describe it once the image size is known
            h, w = preview.image.shape[:2]
            info = FileInfo(codec=name, width=w, height=h, num_layers=preview.num_layers, size=len(data),
                            partial=False, roi=None, metadata={})
            ctx.emit(info)
        n += 1
        partial = partial or preview.partial
        ctx.emit(preview)
    split = None
    if roi is not None and n:
        ctx.check()
        split = roi_bits(dec, data)
    return DecodeResult(layers=n, partial=partial, seconds=time.perf_counter() - t0, roi_bits=split)


def load_image_job(ctx: Ctx, path: str | Path) -> np.ndarray:
    return load_image(path)


# -- encoding ------------------------------------------------------------------------------------------
@dataclass
class EncodeRequest:
    codec: str
    quality: int | None = None
    bpp: float | None = None
    roi: np.ndarray | None = None
    background_quality: int | None = None
    device: str = "cpu"
    source: str = ""  # name of the encoded image, recorded in the file's metadata


@dataclass
class EncodeResult:
    request: EncodeRequest
    data: bytes
    bpp: float
    seconds: float
    roi_bits: tuple[int, int] | None
    quality: int | None = None  # the quality used (found by the bpp search)


def encode_job(ctx: Ctx, image: np.ndarray, req: EncodeRequest) -> EncodeResult:
    """Encode with progress and cancel; returns the bytes and the ROI bit split when known."""
    codec = get_codec(req.codec, req.device)
    ctx.check()
    t0 = time.perf_counter()
    roi = req.roi if (req.roi is not None and codec.supports_roi and req.roi.any()) else None
    bg = req.background_quality if roi is not None else None
    encoded = provenance.encode(codec, image, quality=req.quality, bpp=req.bpp, roi=roi, background_quality=bg,
                                progress=ctx.progress, source=req.source)
    ctx.check()
    data, quality = encoded.data, encoded.quality
    seconds = time.perf_counter() - t0
    split = roi_bits(codec, data) if roi is not None else None
    return EncodeResult(request=req, data=data, bpp=bits_per_pixel(len(data), image.shape),
                        seconds=seconds, roi_bits=split, quality=quality)


# -- metrics -------------------------------------------------------------------------------------------
def compute_metrics(ref: np.ndarray, dist: np.ndarray, device: str = "cpu",
                    metrics: Sequence[str] = ("psnr", "lpips")) -> dict[str, float]:
    """PSNR and LPIPS; LPIPS is dropped with a note if it cannot run (e.g. missing weights)."""
    from gic.codecs.metrics import compute

    try:
        return dict(compute(ref, dist, metrics=tuple(metrics), device=device))
    except GicError as exc:
        if "lpips" not in metrics:
            raise
        out: dict = dict(compute(ref, dist, metrics=tuple(x for x in metrics if x != "lpips"), device=device))
        out["lpips_error"] = str(exc)
        return out


@dataclass
class LayerMetrics:
    layer: int
    values: dict[str, float]


def metrics_job(ctx: Ctx, original: np.ndarray, previews: Sequence[Preview], device: str = "cpu") -> int:
    """PSNR/LPIPS of every decoded layer against the original (emits LayerMetrics per layer)."""
    for i, p in enumerate(previews):
        ctx.check()
        if p.image.shape != original.shape:
            raise CodecError(f"the original is {original.shape[1]}x{original.shape[0]}, the decoded image "
                             f"{p.image.shape[1]}x{p.image.shape[0]}")
        ctx.emit(LayerMetrics(p.layer, compute_metrics(original, p.image, device)))
        ctx.progress((i + 1) / len(previews))
    return len(previews)


def heatmap_job(ctx: Ctx, original: np.ndarray, image: np.ndarray, device: str = "cpu") -> np.ndarray:
    """The LPIPS distance map (HxW float, 0 = identical) of one layer."""
    from gic.codecs.metrics import lpips_map

    return np.asarray(lpips_map(original, image, device=device), np.float32)


# -- comparison and RD curves --------------------------------------------------------------------------
@dataclass
class SideResult:
    """One side of a comparison: the encode, its decoded image and its metrics."""

    encode: EncodeResult
    image: np.ndarray
    metrics: dict[str, float]


def compare_side_job(ctx: Ctx, original: np.ndarray, req: EncodeRequest) -> SideResult:
    enc = encode_job(ctx, original, req)
    ctx.check()
    codec = get_codec(req.codec, req.device)
    image = codec.decode(enc.data)
    ctx.check()
    return SideResult(encode=enc, image=image, metrics=compute_metrics(original, image, req.device))


@dataclass
class RDPoint:
    codec: str
    quality: int
    bpp: float
    psnr: float
    lpips: float | None


@dataclass
class RDResult:
    points: list[RDPoint] = field(default_factory=list)
    skipped: int = 0  # encodes above max_bpp (not measured)


def rd_qualities(codec: Codec, count: int) -> list[int]:
    """`count` qualities spread over the codec's range (every one if the range is small)."""
    lo, hi = codec.quality_range
    if hi - lo + 1 <= count:
        return list(range(lo, hi + 1))
    return sorted({int(round(v)) for v in np.linspace(lo, hi, count)})


def rd_job(ctx: Ctx, original: np.ndarray, codecs: Sequence[str], points_per_codec: int = 6,
           device: str = "cpu", max_bpp: float | None = 2.0) -> RDResult:
    """Encode the image with every codec at a few qualities; emits each RDPoint as it is measured."""
    plan: list[tuple[str, int]] = []
    for name in codecs:
        ctx.check()
        codec = get_codec(name, device)
        plan += [(name, q) for q in rd_qualities(codec, points_per_codec)]
    result = RDResult()
    for i, (name, q) in enumerate(plan):
        ctx.check()
        codec = get_codec(name, device)
        try:
            data = codec.encode(original, q)
            image = codec.decode(data)
        except GicError:
            continue  # a codec that cannot do this size/quality just has fewer points
        bpp = bits_per_pixel(len(data), original.shape)
        if max_bpp is None or bpp <= max_bpp:
            vals = compute_metrics(original, image, device)
            point = RDPoint(name, q, bpp, float(vals.get("psnr", float("nan"))),
                            vals.get("lpips"))
            result.points.append(point)
            ctx.emit(point)
        else:
            result.skipped += 1
        ctx.progress((i + 1) / len(plan))
    return result
