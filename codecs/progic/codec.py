"""The ProGIC codec: RVQ indices entropy-coded into one .gic layer per stage.

Layer k carries the stage-k index of every latent position whose depth is at least k, in raster
order. Without an ROI every position has depth = quality (the number of stages); with an ROI,
positions touched by the mask get `quality` stages and the rest `background_quality`.

The networks run on torch or, exported, on ONNX Runtime (`learned.runtime`): `_indices` and
`_synthesise` are the only places that differ; entropy coding is integer tables either way.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..base import Cancelled, Preview, ProgressFn, RegionCodec, check_image, part, report
from ..container import GicFile
from ..errors import CodecError, GicFormatError
from ..learned.codec import LearnedCodec
from ..learned.tokenizer import Tokenizer
from . import FACTOR, SPEC
from .entropy import decode_layer, encode_layer, symbol_costs

if TYPE_CHECKING:
    from .onnx_model import OnnxLoadedModel
    from .weights import LoadedModel

CODEC_NAME = SPEC.name
ANALYSIS_SHARE = 0.9  # of an encode's progress: the analysis network (measured ~96% of the time)


def default_weights_path() -> Path:
    from gic.resources import path  # resources are data, not Qt: fine for the library

    return path("models", "progic-small.pt")


def roi_to_latent(roi: np.ndarray, lh: int, lw: int) -> np.ndarray:
    """A latent position is in the ROI if any pixel of its 16x16 block is (exact integer logic)."""
    h, w = roi.shape
    padded = np.zeros((lh * FACTOR, lw * FACTOR), dtype=bool)
    padded[:h, :w] = roi
    return padded.reshape(lh, FACTOR, lw, FACTOR).any(axis=(1, 3))


def _int_param(params: dict, key: str) -> int:
    """A PARM value the writer stores as a JSON integer; anything else names the parameter."""
    if key not in params:
        raise GicFormatError(f"file has no ProGIC parameter {key!r}")
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise GicFormatError(f"file has a malformed ProGIC parameter {key!r}: expected an integer, "
                             f"got {str(value)[:40]!r}")
    return value


class ProGICCodec(LearnedCodec, RegionCodec, Tokenizer):
    name = CODEC_NAME
    description = SPEC.description
    extension = SPEC.extension
    progressive = True
    factor = FACTOR
    onnx_graphs = ("analysis", "synthesis")
    loaded: "LoadedModel | OnnxLoadedModel"

    def __init__(self, device: str = "cpu", weights: str | None = None, **options):
        super().__init__(device, weights, **options)
        self.stages = self.loaded.stages
        self.quality_range = (1, self.stages)
        self.default_quality = max(1, self.stages // 2)
        self._search = threading.local()  # one instance serves several worker threads

    @classmethod
    def default_weights(cls) -> Path:
        return default_weights_path()

    def load_weights(self, path: str, device: str) -> "LoadedModel | OnnxLoadedModel":
        if self.runtime == "onnx":
            from .onnx_model import load_onnx_model
            return load_onnx_model(path)
        from .weights import load_model
        return load_model(path, device)

    # -- encoding ----------------------------------------------------------------------------
    def _indices(self, image: np.ndarray, progress: ProgressFn | None = None) -> np.ndarray:
        """RVQ indices of every stage (S x h x w): the analysis network, tile by tile. The same
        image within one bpp search is analysed once (every quality uses the same indices)."""
        reused = getattr(self._search, "indices", None)
        if reused is not None and reused[0] is image:
            return reused[1]
        if self.runtime == "onnx":
            return self.analyse_tiled(self.loaded.analyse, self.to_array(image),
                                      progress=progress)[:, 0].astype(np.int64)
        import torch

        model = self.loaded.model
        with torch.inference_mode():
            idx = self.analyse_tiled(model.analyse, model.pad(self.to_tensor(image)), progress=progress)
        return idx[:, 0].cpu().numpy().astype(np.int64)

    def encode_to_bpp(self, image: np.ndarray, target_bpp: float, *, roi: np.ndarray | None = None,
                      background_quality: int | None = None,
                      progress: ProgressFn | None = None) -> tuple[bytes, int]:
        """The base class's search, analysing the image once (the network is ~96% of an encode)."""
        image = check_image(image)
        part = None if progress is None else (lambda f: progress(0.8 * f))
        self._search.indices = (image, self._indices(image, part))
        rest = None if progress is None else (lambda f: progress(0.8 + 0.2 * f))
        try:
            return super().encode_to_bpp(image, target_bpp, roi=roi, background_quality=background_quality,
                                         progress=rest)
        finally:
            self._search.indices = None

    # -- the tokenizer capability (what a token-prior family builds on) ---------------------------
    def tokenize(self, image: np.ndarray) -> np.ndarray:
        return self._indices(image)

    def detokenize(self, tokens: np.ndarray, depth: np.ndarray, height: int, width: int, *,
                   progress: ProgressFn | None = None) -> np.ndarray:
        idx = np.zeros((self.stages,) + depth.shape, dtype=np.int64)
        idx[:len(tokens)] = tokens
        return self._synthesise(idx, np.minimum(depth, len(tokens)), height, width, progress)

    def vocab(self, stage: int) -> int:
        return int(self.loaded.tables[stage - 1].shape[-1])

    @property
    def num_stages(self) -> int:
        return self.stages

    def encode_stage(self, tokens: np.ndarray, present: np.ndarray, stage: int) -> bytes:
        return encode_layer(tokens, present, *self._models(stage))

    def decode_stage(self, payload: bytes, present: np.ndarray, stage: int, out: np.ndarray,
                     what: str = "layer") -> None:
        decode_layer(payload, present, *self._models(stage), out=out, what=what)

    def _encode(self, image: np.ndarray, quality: int, *, progress: ProgressFn | None = None) -> bytes:
        return self._encode_region(image, quality, None, None, progress=progress)

    def _encode_region(self, image: np.ndarray, quality: int, roi: np.ndarray | None,
                       background_quality: int | None, *, progress: ProgressFn | None = None) -> bytes:
        # progress: the analysis (per tile) is ~96% of the time, the entropy-coded layers the rest
        idx = self._indices(image, None if progress is None else (lambda f: progress(ANALYSIS_SHARE * f)))
        _, lh, lw = idx.shape
        if roi is not None and roi.any():
            bg = max(1, quality // 4) if background_quality is None else int(background_quality)
            if not 1 <= bg <= quality:
                raise CodecError(f"background quality must be in [1, {quality}], got {bg}")
            depth = np.where(roi_to_latent(roi, lh, lw), quality, bg)
        else:  # an empty mask is no ROI: the file is the plain one
            roi, bg = None, quality
            depth = np.full((lh, lw), quality)
        layers = []
        for k in range(1, quality + 1):
            layers.append(encode_layer(idx[k - 1], depth >= k, *self._models(k)))
            if progress is not None and progress(ANALYSIS_SHARE + (1 - ANALYSIS_SHARE) * k / quality):
                raise Cancelled()
        params = {"depth": quality, "bg": bg}  # the latent grid size follows from width x height
        # no META chunk: at 0.03 bpp every byte counts, and params already record the settings
        return self.pack(image.shape, layers, params, roi)

    # -- decoding ----------------------------------------------------------------------------
    def _open(self, data: bytes) -> tuple[GicFile, np.ndarray]:
        f = self.unpack(data)
        lh, lw = self.latent_size(f.header.height, f.header.width)
        full, bg = _int_param(f.params, "depth"), _int_param(f.params, "bg")
        if not 1 <= bg <= full <= self.stages or full != f.header.num_layers:
            raise GicFormatError("file has inconsistent ProGIC parameters")
        if f.roi is not None:
            depth = np.where(roi_to_latent(f.roi, lh, lw), full, bg)
        else:
            depth = np.full((lh, lw), full)
        return f, depth

    def _models(self, k: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Marginal table and (for the first stages, when shipped) context tables of stage k."""
        ctx = self.loaded.context
        return self.loaded.tables[k - 1], (ctx[k - 1] if ctx is not None and k <= len(ctx) else None)

    def _decode_layer(self, f: GicFile, depth: np.ndarray, idx: np.ndarray, k: int) -> None:
        decode_layer(f.layers[k - 1], depth >= k, *self._models(k), out=idx[k - 1], what=f"layer {k}")

    def _render(self, idx: np.ndarray, depth: np.ndarray, f: GicFile,
                progress: ProgressFn | None = None) -> np.ndarray:
        return self._synthesise(idx, depth, f.header.height, f.header.width, progress)

    def _synthesise(self, idx: np.ndarray, depth: np.ndarray, height: int, width: int,
                    progress: ProgressFn | None = None) -> np.ndarray:
        """Pixels from indices and depths, tile by tile into a uint8 image (bounded memory)."""
        if self.runtime == "onnx":
            return self.synthesise_image(self.loaded.synthesise, idx[:, None], depth[None],
                                         height=height, width=width, progress=progress)
        import torch

        t_idx = torch.from_numpy(idx)[:, None].to(self.device)
        t_depth = torch.from_numpy(depth)[None].to(self.device)
        return self.synthesise_image(self.loaded.model.synthesise, t_idx, t_depth,
                                     height=height, width=width, progress=progress)

    def decode_progressive(self, data: bytes, *, progress: ProgressFn | None = None) -> Iterator[Preview]:
        """Each layer's preview; `progress` moves per synthesis tile of each layer (entropy decoding
        of all layers together is ~15 ms) and a cancel stops after the tile in hand."""
        f, depth = self._open(data)
        if not f.layers:
            raise GicFormatError("file holds no complete layer to decode")
        idx = np.zeros((self.stages,) + depth.shape, dtype=np.int64)
        n = len(f.layers)
        for k in range(1, n + 1):
            self._decode_layer(f, depth, idx, k)
            report(progress, (k - 1) / n)
            image = self._render(idx, np.minimum(depth, k), f, part(progress, (k - 1) / n, k / n))
            yield Preview(layer=k, num_layers=f.header.num_layers, image=image,
                          bits=8 * f.layer_offsets[k - 1], partial=f.partial)

    def decode(self, data: bytes, *, progress: ProgressFn | None = None) -> np.ndarray:
        """All layers the file holds; `progress` (optional) is called after each tile of the
        synthesis and cancels it (Cancelled) by returning True."""
        f, depth = self._open(data)
        if not f.layers:
            raise GicFormatError("file holds no complete layer to decode")
        idx = np.zeros((self.stages,) + depth.shape, dtype=np.int64)
        n = len(f.layers)
        for k in range(1, n + 1):
            self._decode_layer(f, depth, idx, k)
        return self._render(idx, np.minimum(depth, n), f, progress)

    def roi_bits(self, data: bytes) -> tuple[int, int] | None:
        """Bits inside vs outside the ROI: each layer's payload split by the ideal code length
        (-log2 p) of the indices that fall inside and outside (they share one coder stream)."""
        f, depth = self._open(data)
        if f.roi is None:
            return None
        inside = roi_to_latent(f.roi, *depth.shape)
        idx = np.zeros((self.stages,) + depth.shape, dtype=np.int64)
        bits_in = bits_out = 0.0
        for k, payload in enumerate(f.layers, start=1):
            self._decode_layer(f, depth, idx, k)
            sel = depth >= k
            cost = symbol_costs(idx[k - 1], sel, *self._models(k))
            c_in, c_out = float(cost[sel & inside].sum()), float(cost[sel & ~inside].sum())
            total = 8 * len(payload)
            if c_in + c_out > 0:
                bits_in += total * c_in / (c_in + c_out)
                bits_out += total * c_out / (c_in + c_out)
        return int(round(bits_in)), int(round(bits_out))
