"""numpy ↔ QImage on the GUI thread (why: QImage must not be built in workers, and it borrows memory)."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_qimage(image: np.ndarray) -> QImage:
    """Wrap an HxWx3 uint8 array as a QImage (a deep copy, so the array may be freed afterwards).

    The stride comes from the array itself: rows of odd widths are not 4-byte aligned.
    """
    arr = np.ascontiguousarray(image, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 array")
    h, w = arr.shape[:2]
    qimg = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
    return qimg.copy()  # detach from `arr`'s buffer


def rgba_to_qimage(image: np.ndarray) -> QImage:
    """Wrap an HxWx4 uint8 RGBA array (not premultiplied) as an independent QImage."""
    arr = np.ascontiguousarray(image, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 4:
        raise ValueError("expected an HxWx4 uint8 array")
    h, w = arr.shape[:2]
    qimg = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGBA8888)
    return qimg.copy()


def mask_to_rgba(mask: np.ndarray, color: tuple[int, int, int] = (255, 200, 0)) -> np.ndarray:
    """An RGBA overlay that is `color` where the mask is set and transparent elsewhere."""
    h, w = mask.shape
    out = np.zeros((h, w, 4), np.uint8)
    out[mask] = (*color, 255)
    return out


#: Token map colours: sent tokens stay clear; guessed ones blue, dropped (regenerated) ones orange.
TOKEN_COLOURS = np.array([[0, 0, 0, 0], [40, 120, 255, 255], [255, 140, 0, 255]], dtype=np.uint8)


def tokens_to_rgba(states: np.ndarray, height: int, width: int) -> np.ndarray:
    """An H x W RGBA overlay of a token-state grid (each token a block of the image)."""
    fy, fx = -(-height // states.shape[0]), -(-width // states.shape[1])
    big = np.repeat(np.repeat(np.clip(states, 0, 2), fy, 0), fx, 1)[:height, :width]
    return TOKEN_COLOURS[big]


#: A piecewise-linear "inferno-like" ramp, enough to read hot spots without a colormap dependency.
HEATMAP_STOPS = ((0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164))


def heatmap_scale(values: np.ndarray) -> float:
    """The value drawn at the top of the ramp: the 99.5th percentile (a few outliers would
    otherwise leave the whole map dark)."""
    return float(np.percentile(np.asarray(values, np.float32), 99.5)) or 1.0


def heatmap_to_rgba(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Colour-map a HxW float map (0 = good) with a dark-blue → yellow → red ramp, opaque; values
    at or above `vmax` (default `heatmap_scale`) take the last colour."""
    v = np.asarray(values, np.float32)
    top = float(vmax) if vmax else heatmap_scale(v)
    t = np.clip(v / max(top, 1e-8), 0.0, 1.0)
    stops = np.array(HEATMAP_STOPS, np.float32)
    pos = t * (len(stops) - 1)
    i = np.minimum(pos.astype(np.int32), len(stops) - 2)
    f = (pos - i)[..., None]
    rgb = stops[i] * (1 - f) + stops[i + 1] * f
    out = np.empty(v.shape + (4,), np.uint8)
    out[..., :3] = np.round(rgb).astype(np.uint8)
    out[..., 3] = 255
    return out


def qimage_to_rgb(qimg: QImage) -> np.ndarray:
    """Copy a QImage into an HxWx3 uint8 array (for tests and for reading masks back)."""
    q = qimg.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = q.width(), q.height(), q.bytesPerLine()
    buf = np.frombuffer(q.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
