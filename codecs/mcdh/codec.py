"""The MCDH codec: one layer, one range-coded payload per file.

Encode: analysis (tiled) -> gain of the chosen rate level -> both hyper-latents (rounded) ->
the integer entropy-parameter path (`fixed.py`) gives each latent's mean and scale table: anchors
first, then non-anchors from the decoded anchors -> range coding (hyper-latents under their
factorised priors, latents grouped by scale table). Decode runs the same integer path, so it finds
the same tables; the latents are then scaled back (inverse gain) and synthesised tile by tile with
thread-count-independent kernels (`LearnedCodec.synthesise_image`).

The float transforms (analysis with gain, hyper-analysis, inverse gain with synthesis) run on torch
or, exported, on ONNX Runtime (`learned.runtime`, `onnx_export`): `latents` and `decode` are the
only places that differ; the entropy-parameter path is the same integer numpy code either way, so
a file decodes to the same latents whichever runtime wrote or reads it.

Payload order: channel hyper-latent, spatial hyper-latent, anchors, non-anchors.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..base import ProgressFn, part, report
from ..container import GicFile
from ..errors import GicFormatError
from ..learned.blas import one_blas_thread
from ..learned.codec import LearnedCodec
from ..learned.entropy import GroupedDecoder, GroupedEncoder
from . import SPEC
from .config import Y_SUPPORT
from .fixed import ACT, anchor_mask
from .onnx_model import GRAPHS

if TYPE_CHECKING:
    from .onnx_model import OnnxMCDH
    from .weights import LoadedMCDH

#: Of a decode's progress, the share of the latent (hyper-latents, both checkerboard passes; the rest
#: is the synthesis, per tile), and where each latent step ends within it: measured on one thread,
#: 1536x768, ~0.75 s of latent (hyper 0.06-0.10 s, each pass's parameters ~0.07 s, the non-anchor
#: context ~0.5 s) of ~2.1 s in all.
LATENT_SHARE = 0.35
STEP_SHARES = (0.15, 0.3, 1.0)
#: Latent positions per chunk of the encoder's residuals (float64 temporaries of m x chunk).
RESIDUAL_CHUNK = 8192


def default_weights_path() -> Path:
    from gic.resources import path

    return path("models", "mcdh-small.pt")


class MCDHCodec(LearnedCodec):
    name = SPEC.name
    description = SPEC.description
    extension = SPEC.extension
    quality_range = SPEC.quality_range
    default_quality = SPEC.default_quality
    progressive = False
    onnx_graphs = GRAPHS
    loaded: "LoadedMCDH | OnnxMCDH"

    @classmethod
    def default_weights(cls) -> Path:
        return default_weights_path()

    def load_weights(self, path: str, device: str) -> "LoadedMCDH | OnnxMCDH":
        if self.runtime == "onnx":
            from .onnx_model import load_onnx_mcdh
            return load_onnx_mcdh(path)
        from .weights import load_mcdh
        return load_mcdh(path, device)

    # -- the shared integer path -----------------------------------------------------------------
    def _zc_index(self) -> np.ndarray:
        return np.arange(self.loaded.config.zc)

    def _zs_index(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(np.arange(shape[0])[:, None, None], shape)

    def latents(self, image: np.ndarray, quality: int, progress: ProgressFn | None = None):
        """(gain-scaled latent m x h x w float32, spatial hyper-latent, channel hyper-latent) (ints);
        float32 as the networks give it (float64 would only double its memory)."""
        r = self.loaded.config.z_support
        if self.runtime == "onnx":
            L = self.loaded
            yg = self.analyse_tiled(lambda x: L.analyse(x, quality - 1), self.to_array(image), progress)
            zs, zc = L.hyper_analyse(yg)
            return yg[0], self._round_z(zs[0], r), self._round_z(zc[0], r)
        import torch
        import torch.nn.functional as F

        model = self.loaded.model
        x = self.to_tensor(image)
        x = F.pad(x, (0, -x.shape[-1] % self.factor, 0, -x.shape[-2] % self.factor), mode="replicate")
        with torch.inference_mode():
            y = self.analyse_tiled(model.analyse, x, progress)
            yg = y * model.gain(torch.tensor([quality - 1], device=y.device))
            zs, zc = model.hyper_analyse(yg)
        zs, zc = (self._round_z(z[0].double().cpu().numpy(), r) for z in (zs, zc))
        return yg[0].float().cpu().numpy(), zs, zc

    @staticmethod
    def _round_z(z: np.ndarray, r: int) -> np.ndarray:
        """A hyper-latent rounded (half to even, as torch) and clipped to its coded support."""
        return np.clip(np.round(np.asarray(z, np.float64)), -r, r).astype(np.int64)

    def _passes(self, zs: np.ndarray, zc: np.ndarray, h: int, w: int, code,
                done: Callable[[int], None] | None = None):
        """Run both checkerboard passes; `code(mean, idx, sel)` gets the pass's means and table
        indices at its positions only (m x N, N = sel.sum(), row-major as `[:, sel]`) and returns
        their integer residuals (m x N); `done(step)` runs after the hyper-decoder's channel part
        (step 0) and after each pass (steps 1, 2). Returns the decoded latent at ACT bits (int32).

        Only the positions a pass codes are computed (its 1x1 layers, and the context conv at the
        non-anchors), in row bands (`FixedEntropy.bands`: hyper features, context and layers of a
        band at a time, the hyper features computed again for the second pass): the same integers
        as the whole maps of `coding_tables`, with working memory bounded by the band; the pass's
        means (int32) and table indices (uint8) are kept whole, as the coder orders a pass by
        table. On one BLAS thread (`learned.blas`: faster for products this small)."""
        fx = self.loaded.fixed
        anchors = anchor_mask(h, w)
        y = np.zeros((self.loaded.config.m, h, w), np.int32)  # |y| < 2**24: ACT bits of +-(2**13)
        bands = fx.bands(h, w)
        small = np.uint8 if len(fx.thresholds) <= 256 else np.int64  # table indices
        with one_blas_thread():
            ch = fx.channel(zc)
            if done is not None:
                done(0)
            for which, sel in ((0, anchors), (1, ~anchors)):
                glob = fx.global_context(y, anchors) if which else None
                means, idxs = [], []
                for a, b in bands:
                    at = sel[a:b]
                    f = fx.hyper_rows(zs, ch, a, b, w)[:, at]
                    if which:
                        f += fx.local_rows(y, a, b, at) + glob[:, None]
                    mean, idx = fx.params(f, which)
                    means.append(mean.astype(np.int32))
                    idxs.append(idx.astype(small))
                mean, idx = np.concatenate(means, 1), np.concatenate(idxs, 1)
                del means, idxs
                y[:, sel] = (code(mean, idx, sel).astype(np.int32) << ACT) + mean
                if done is not None:
                    done(which + 1)
        return y

    def coding_tables(self, zs: np.ndarray, zc: np.ndarray, y_fixed: np.ndarray) -> list[np.ndarray]:
        """Means and table indices of both passes for given latents (the golden test's subject)."""
        h, w = y_fixed.shape[1:]
        fx = self.loaded.fixed
        feat = fx.hyper(zs, zc, h, w)
        anchors = anchor_mask(h, w)
        out = list(fx.params(feat, 0))
        out += list(fx.params(feat + fx.context(np.where(anchors, y_fixed, 0), anchors), 1))
        return out

    # -- encoding ----------------------------------------------------------------------------
    def _encode(self, image: np.ndarray, quality: int, *, progress: ProgressFn | None = None) -> bytes:
        L, r = self.loaded, self.loaded.config.z_support
        yg, zs, zc = self.latents(image, quality, progress)
        h, w = yg.shape[1:]
        enc = GroupedEncoder()
        enc.encode(zc + r, self._zc_index(), L.zc_tables)
        enc.encode(zs + r, self._zs_index(zs.shape), L.zs_tables)

        def code(mean, idx, sel):
            target = yg[:, sel]
            s = np.empty(mean.shape, np.int16)  # |s| <= Y_SUPPORT
            for n in range(0, s.shape[1], RESIDUAL_CHUNK):  # float64 temporaries of a chunk only
                c = slice(n, n + RESIDUAL_CHUNK)
                s[:, c] = np.clip(np.round(target[:, c] - mean[:, c] / float(1 << ACT)), -Y_SUPPORT, Y_SUPPORT)
            enc.encode(s + Y_SUPPORT, idx, L.y_tables)
            return s
        self._passes(zs, zc, h, w, code)
        return self.pack(image.shape, [enc.finish()], {"level": int(quality)})

    # -- decoding ----------------------------------------------------------------------------
    def _open(self, data: bytes) -> tuple[GicFile, int]:
        f = self.unpack(data)
        level = f.params.get("level") if isinstance(f.params, dict) else None
        if set(f.params) != {"level"} or not isinstance(level, int) or isinstance(level, bool) \
                or not self.quality_range[0] <= level <= min(self.quality_range[1], self.loaded.config.levels):
            raise GicFormatError("file has unknown or inconsistent MCDH parameters")
        if f.header.num_layers != 1 or len(f.layers) > 1:
            raise GicFormatError("file has inconsistent MCDH parameters (layers)")
        if f.partial or not f.layers:  # one layer: nothing to preview from a cut file
            raise GicFormatError("file is truncated: its one MCDH layer is incomplete")
        return f, level

    def decode_latent(self, data: bytes, progress: ProgressFn | None = None) -> tuple[GicFile, int, np.ndarray]:
        """(container, level, decoded gain-scaled latent at ACT fractional bits); `progress` after
        the hyper-latents and after each checkerboard pass (STEP_SHARES), True cancels."""
        f, level = self._open(data)
        L, r = self.loaded, self.loaded.config.z_support
        h, w = self.latent_size(f.header.height, f.header.width)
        dec = GroupedDecoder(f.layers[0])
        zc = dec.decode(self._zc_index(), L.zc_tables) - r
        zshape = (L.config.zs, -(-h // 4), -(-w // 4))
        zs = dec.decode(self._zs_index(zshape), L.zs_tables) - r

        def code(mean, idx, sel):
            return dec.decode(idx, L.y_tables) - Y_SUPPORT
        y = self._passes(zs, zc, h, w, code, lambda step: report(progress, STEP_SHARES[step]))
        dec.finish()
        return f, level, y

    def decode(self, data: bytes, *, progress: ProgressFn | None = None) -> np.ndarray:
        """The latent (LATENT_SHARE of the progress, per step), then the synthesis per tile."""
        f, level, y = self.decode_latent(data, part(progress, 0.0, LATENT_SHARE))
        progress = part(progress, LATENT_SHARE, 1.0)
        latent = (y.astype(np.float32) / np.float32(1 << ACT))[None]  # exact: |y| < 2**24
        del y  # the synthesis holds the float latent only
        if self.runtime == "onnx":
            L = self.loaded
            return self.synthesise_image(lambda t: L.synthesise(t, level - 1), latent,
                                         height=f.header.height, width=f.header.width, progress=progress)
        import torch

        model = self.loaded.model
        yt = torch.from_numpy(latent).to(self.device)
        with torch.inference_mode():
            yt = yt * model.inv_gain(torch.tensor([level - 1], device=yt.device))
        return self.synthesise_image(model.synthesise, yt, height=f.header.height, width=f.header.width,
                                     progress=progress)
