"""Names every part of gic agrees on, in a module that imports nothing heavy (no torch, no PIL).

Front ends validate options against these before any codec or metric network loads.
"""
from __future__ import annotations

#: Quality metrics `gic.codecs.metrics.compute` knows, in display order.
METRICS = ("psnr", "ms-ssim", "lpips", "dists")

#: Suffixes of image files gic reads as pictures (originals, training and benchmark folders).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".ppm", ".pgm",
                            ".avif", ".jxl", ".jp2", ".j2k", ".gif", ".tga"})
