"""The one interface every codec implements, so the app, CLI and benchmarks treat them alike."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .errors import CodecError

#: Called with a fraction in [0, 1] during long work; returning True asks to cancel.
ProgressFn = Callable[[float], "bool | None"]


class Cancelled(Exception):
    """Raised inside a codec when its progress callback asked to stop."""


def report(progress: ProgressFn | None, fraction: float) -> None:
    """Tell `progress` that `fraction` of the work is done; raise Cancelled when it asks to stop
    (why one helper: every step boundary of every codec both reports and honours the cancel)."""
    if progress is not None and progress(fraction):
        raise Cancelled()


def part(progress: ProgressFn | None, start: float, end: float) -> ProgressFn | None:
    """A callback for one step of a longer job: its 0..1 maps onto `start`..`end` of `progress`
    (None stays None, so steps need not test for it)."""
    if progress is None:
        return None
    return lambda f: progress(start + (end - start) * f)


@dataclass(frozen=True)
class Preview:
    """One step of a progressive decode: the image after `layer` of `num_layers` layers."""

    layer: int  # 1-based
    num_layers: int
    image: np.ndarray  # HxWx3 uint8
    bits: int  # bits read so far (header included)
    partial: bool = False  # the file held fewer layers than it announced
    #: Token codecs: h x w uint8 state of each token (TOKEN_SENT / TOKEN_GUESSED / TOKEN_DROPPED),
    #: which the viewer's token map shows; None for other codecs.
    tokens: np.ndarray | None = None


#: A token read from the file so far.
TOKEN_SENT = 0
#: A token not read yet: the prior's guess stands in until its layer arrives.
TOKEN_GUESSED = 1
#: A token the encoder dropped: the prior regenerated it.
TOKEN_DROPPED = 2


def check_image(image: np.ndarray) -> np.ndarray:
    """Validate an RGB uint8 HxWx3 array (why: every codec relies on that exact layout)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise CodecError("expected an RGB uint8 image of shape HxWx3")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise CodecError("image is empty")
    return np.ascontiguousarray(image)


def bits_per_pixel(num_bytes: int, image_shape: tuple[int, ...]) -> float:
    """Honest bpp: the whole file's size in bits over the number of pixels."""
    return num_bytes * 8.0 / (image_shape[0] * image_shape[1])


class Codec(ABC):
    """An image codec: RGB uint8 in, bytes out, and back.

    `quality` is an integer in `quality_range`, higher is better. `encode(..., bpp=B)` searches the
    quality whose file is closest to B bits per pixel. Capabilities beyond that are subclasses, not
    parameters every codec accepts and ignores: `RegionCodec` encodes a region of interest at a
    higher quality; progressive codecs set `progressive` and override `decode_progressive`.
    """

    name: str = ""
    description: str = ""
    extension: str = ".bin"  # the file suffix its bytes are stored under
    quality_range: tuple[int, int] = (0, 100)
    default_quality: int = 75
    progressive: bool = False
    supports_roi: bool = False  # True exactly for RegionCodec subclasses

    # -- to implement -------------------------------------------------------------------------
    @abstractmethod
    def _encode(self, image: np.ndarray, quality: int, *, progress: ProgressFn | None = None) -> bytes:
        """Encode a validated image at an integer quality inside quality_range."""

    @abstractmethod
    def decode(self, data: bytes, *, progress: ProgressFn | None = None) -> np.ndarray:
        """Decode bytes written by this codec to an HxWx3 uint8 array.

        `progress(f)` (optional) hears the fraction done, reaching 1.0 at the end; returning True
        asks to stop, and the codec raises Cancelled at its next step boundary (a codec whose
        decode is one library call reports only the end)."""

    # -- shared behaviour ---------------------------------------------------------------------
    def encode(self, image: np.ndarray, quality: int | None = None, *, bpp: float | None = None,
               roi: np.ndarray | None = None, background_quality: int | None = None,
               progress: ProgressFn | None = None) -> bytes:
        """Encode at `quality`, or at the quality whose rate is closest to `bpp`.

        `roi` (an HxW mask, non-zero inside) and `background_quality` need a RegionCodec.
        """
        image = check_image(image)
        if quality is not None and bpp is not None:
            raise CodecError("give either a quality or a target bpp, not both")
        if roi is not None:
            roi = self._check_roi(roi, image)
        if bpp is not None:
            return self.encode_to_bpp(image, bpp, roi=roi, background_quality=background_quality,
                                      progress=progress)[0]
        q = self.default_quality if quality is None else quality
        lo, hi = self.quality_range
        if not lo <= q <= hi or int(q) != q:
            raise CodecError(f"quality for {self.name} must be an integer in [{lo}, {hi}], got {q}")
        return self._encode_at(image, int(q), roi, background_quality, progress)

    def _check_roi(self, roi: np.ndarray, image: np.ndarray) -> np.ndarray:
        if not self.supports_roi:
            raise CodecError(f"codec {self.name!r} does not support a region of interest")
        roi = np.asarray(roi)
        if roi.shape[:2] != image.shape[:2]:
            raise CodecError(f"ROI mask is {roi.shape[1]}x{roi.shape[0]}, image is "
                             f"{image.shape[1]}x{image.shape[0]}")
        return roi.reshape(roi.shape[0], roi.shape[1], -1)[..., 0] > 0

    def _encode_at(self, image: np.ndarray, quality: int, roi: np.ndarray | None,
                   background_quality: int | None, progress: ProgressFn | None) -> bytes:
        """One encode at a checked quality: with the ROI hook when a mask was given."""
        if roi is None:
            return self._encode(image, quality, progress=progress)
        return self._encode_region(image, quality, roi, background_quality,  # type: ignore[attr-defined]
                                   progress=progress)

    def encode_to_bpp(self, image: np.ndarray, target_bpp: float, *, roi: np.ndarray | None = None,
                      background_quality: int | None = None,
                      progress: ProgressFn | None = None) -> tuple[bytes, int]:
        """Binary-search the integer quality whose bpp is closest to target (rate grows with quality).

        Returns the bytes and the quality used.
        """
        if not target_bpp > 0:
            raise CodecError(f"target bpp must be positive, got {target_bpp}")
        image = check_image(image)
        if roi is not None:
            roi = self._check_roi(roi, image)
        lo, hi = self.quality_range
        tried: dict[int, bytes] = {}

        def within(f: float) -> bool:  # one trial encode's progress, as part of the search's
            return bool(progress(min(0.95, (len(tried) + f) / 9.0)))

        def rate(q: int) -> float:
            if q not in tried:  # the trial encode itself stops at its next step when cancelled
                tried[q] = self._encode_at(image, q, roi, background_quality,
                                           within if progress is not None else None)
                if progress is not None and progress(min(0.95, len(tried) / 9.0)):
                    raise Cancelled()
            return bits_per_pixel(len(tried[q]), image.shape)

        a, b = lo, hi
        while b - a > 1:  # invariant (when reachable): rate(a) <= target < rate(b)
            mid = (a + b) // 2
            if rate(mid) <= target_bpp:
                a = mid
            else:
                b = mid
        best = min((a, b), key=lambda q: abs(rate(q) - target_bpp))
        if progress is not None:
            progress(1.0)
        return tried[best], best

    def decode_progressive(self, data: bytes, *, progress: ProgressFn | None = None) -> Iterator[Preview]:
        """Yield previews coarse to fine; non-progressive codecs yield the final image once.

        `progress` as for `decode`, over every preview together (1.0 once the last is made)."""
        image = self.decode(data, progress=progress)
        yield Preview(layer=1, num_layers=1, image=image, bits=len(data) * 8)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class RegionCodec(Codec):
    """A codec that spends more bits inside a region of interest (the ROI capability)."""

    supports_roi = True

    @abstractmethod
    def _encode_region(self, image: np.ndarray, quality: int, roi: np.ndarray,
                       background_quality: int | None, *, progress: ProgressFn | None = None) -> bytes:
        """Encode with `quality` inside the HxW bool mask `roi` and `background_quality` outside
        (None: the codec's choice)."""

    def roi_bits(self, data: bytes) -> tuple[int, int] | None:
        """Bits spent inside and outside the stored ROI, when the codec can tell; else None."""
        return None


def roi_bits(codec: Codec, data: bytes) -> tuple[int, int] | None:
    """The ROI bit split of `data` if its codec has the ROI capability and can tell, else None."""
    return codec.roi_bits(data) if isinstance(codec, RegionCodec) else None


def roi_share(split: tuple[int, int]) -> float:
    """The fraction of the ROI split's bits spent inside the ROI (0 for no bits): the viewer and
    `gic info` say the same number."""
    inside, outside = split
    return inside / (inside + outside) if inside + outside else 0.0
