"""A progressive test double codec and a synthetic image for the viewer tests (no Qt here)."""
from __future__ import annotations

import io
import threading

import numpy as np
from PIL import Image

from gic.codecs import container
from gic.codecs.base import Cancelled, Preview, RegionCodec, report
from gic.codecs.errors import GicFormatError

TEST_CODEC = "testprog"


class JpegLadderCodec(RegionCodec):
    """A progressive TEST DOUBLE: layer k is a JPEG of the image at a finer quality than layer k-1.

    With an ROI, layers above the background quality only refine the ROI (outside it the image stays
    at the background layer). Packed with the real .gic container, so truncation and corruption behave
    like a real file. `hold` (a threading.Event) pauses decoding after layer 1 until set, so a test can
    cancel a decode in the middle deterministically.
    """

    name = TEST_CODEC
    description = "test double: JPEG quality ladder in a .gic container"
    extension = ".gic"
    quality_range = (1, 4)
    default_quality = 4
    progressive = True
    supports_roi = True
    JPEG_Q = (8, 30, 60, 90)
    hold: threading.Event | None = None
    decoded_layers: list[int] = []  # every layer any instance decoded, in order (for tests)

    def __init__(self, **_options) -> None:
        pass

    @staticmethod
    def _jpeg(image: np.ndarray, q: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=q)
        return buf.getvalue()

    def _encode(self, image, quality, *, progress=None) -> bytes:
        return self._encode_region(image, quality, None, None, progress=progress)

    def _encode_region(self, image, quality, roi, background_quality, *, progress=None) -> bytes:
        bg = quality if roi is None else (background_quality or 1)
        layers = []
        for k in range(1, quality + 1):
            if k == 2 and self.hold is not None:
                self.hold.wait(10)
            layers.append(self._jpeg(image, self.JPEG_Q[k - 1]))
            if progress is not None and progress(k / quality):
                raise Cancelled()
        header = container.Header(width=image.shape[1], height=image.shape[0], codec=self.name,
                                  model_id="", model_hash=b"\0" * 16, num_layers=quality)
        return container.pack(header, layers, params={"background": bg}, roi=roi,
                              metadata={"encoder": "test"})

    def decode_progressive(self, data: bytes, *, progress=None):
        f = container.unpack(data)
        if f.header.codec != self.name:
            raise GicFormatError(f"not a {self.name} file")
        if not f.layers:
            raise GicFormatError("file holds no complete layer")
        bg = int(f.params.get("background", f.header.num_layers))
        base = None
        for k, payload in enumerate(f.layers, 1):
            if k == 2 and self.hold is not None:
                self.hold.wait(10)
            img = np.asarray(Image.open(io.BytesIO(payload)).convert("RGB"))
            if f.roi is not None and k > bg and base is not None:
                img = np.where(f.roi[..., None], img, base)
            if k <= bg:
                base = img
            JpegLadderCodec.decoded_layers.append(k)
            report(progress, k / len(f.layers))
            yield Preview(layer=k, num_layers=f.header.num_layers, image=img,
                          bits=8 * f.layer_offsets[k - 1], partial=f.partial)

    def decode(self, data: bytes, *, progress=None) -> np.ndarray:
        last = None
        for p in self.decode_progressive(data, progress=progress):
            last = p.image
        return last

    def roi_bits(self, data: bytes):
        f = container.unpack(data)
        if f.roi is None:
            return None
        bg = int(f.params.get("background", f.header.num_layers))
        frac = float(f.roi.mean())
        inside = outside = 0.0
        for k, payload in enumerate(f.layers, 1):
            if k > bg:
                inside += 8 * len(payload)
            else:
                inside += 8 * len(payload) * frac
                outside += 8 * len(payload) * (1 - frac)
        return int(round(inside)), int(round(outside))


def make_image(w: int = 96, h: int = 64, seed: int = 0) -> np.ndarray:
    """A small synthetic picture with gradients, an edge and noise (no files needed)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([128 + 90 * np.sin(x / 7), 128 + 90 * np.cos(y / 9), (x + y) * 255 / (w + h)], -1)
    img[h // 3: h // 2, w // 4: w // 2] = [230, 40, 40]
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)
