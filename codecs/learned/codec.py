"""What every learned codec shares: weights loaded once per (file, device), the device check, the
model-identity check of a .gic file, packing into the container, and tiled analysis/synthesis.

A family subclasses `LearnedCodec`, says how to load its weight file (`load_weights`) and where its
default weights are, and implements `_encode`/`decode` (and `_encode_region` if it has the ROI
capability) with `pack`, `unpack` and the tiling hooks below.

The network runs on torch or on ONNX Runtime (`learned.runtime`): `self.runtime` says which, chosen
before the weights load; a family that ships no ONNX export lists no `onnx_graphs` and stays on
torch. This module imports no torch itself, so an ONNX decode never loads it.
"""
from __future__ import annotations

import threading
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import numpy as np

from .. import container
from ..errors import CodecError, GicFormatError
from ..torch_check import require_torch
from . import runtime as _runtime
from ..base import Cancelled, Codec, ProgressFn
from .tiling import HALO, TILE, FloatImage, analyse_tiled, synthesise_image, synthesise_tiled

if TYPE_CHECKING:
    import torch


class LearnedCodec(Codec):
    """A codec run by a neural network whose weights identify the files it writes.

    The loaded weights object must have `model_id` (str), `model_hash` (16 bytes) and
    `also_decodes` (the (id, hash) pairs of models whose files these weights read).
    """

    #: Image pixels per latent position along each axis (the network's downsampling).
    factor: ClassVar[int] = 16
    #: Tile core and halo on the latent grid for large images (see learned.tiling).
    tile: ClassVar[int] = TILE
    halo: ClassVar[int] = HALO
    #: The ONNX graphs a family exports (`learned.runtime`); empty: torch only.
    onnx_graphs: ClassVar[tuple[str, ...]] = ()
    #: True for a family whose inference is numpy given its runtime sidecar alone (no graphs): its
    #: runtime is then "onnx" (torch-free) when the sidecar matches, as for graph families.
    exports_runtime: ClassVar[bool] = False

    _cache: ClassVar[dict[tuple[type, str, str], Any]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, device: str = "cpu", weights: str | Path | None = None,
                 runtime: str | None = None, **_ignored: Any) -> None:
        if device.startswith("cuda"):
            require_torch(f"--device {device}")
            import torch

            if not torch.cuda.is_available():
                raise CodecError("CUDA was requested but is not available on this machine")
        self.device = device
        path = str(weights or self.default_weights())
        exported = self.onnx_graphs or self.exports_runtime
        self.runtime = _runtime.choose(device, path, self.onnx_graphs, runtime) if exported else "torch"
        if self.runtime == "torch":  # asked for, or no ONNX export matching these weights
            why = None if _runtime.requested(runtime) == "torch" or not exported else \
                _runtime.onnx_unavailable(path, self.onnx_graphs)
            require_torch(f"the {self.name} codec on the torch runtime" + (f" ({why})" if why else ""))
        key = (type(self), path, device, self.runtime)
        with self._cache_lock:  # one load per (weights, device, runtime) for the whole process
            if key not in self._cache:
                self._cache[key] = self.load_weights(path, device)
            self.loaded = self._cache[key]

    # -- the family supplies ---------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def default_weights(cls) -> Path:
        """The weight file used when none is given (usually one under resources/models/)."""

    @abstractmethod
    def load_weights(self, path: str, device: str) -> Any:
        """Read a weight file of this family onto `device` (CodecError if it is not one), for
        `self.runtime` (for "onnx": the graphs exported beside it)."""

    # -- identity ----------------------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self.loaded.model_id

    @property
    def model_hash(self) -> bytes:
        return self.loaded.model_hash

    # -- container -------------------------------------------------------------------------------
    def pack(self, image_shape: tuple[int, ...], layers: list[bytes], params: dict,
             roi: np.ndarray | None = None) -> bytes:
        """A .gic file of these layers, stamped with this codec's name and model identity."""
        header = container.Header(width=image_shape[1], height=image_shape[0], codec=self.name,
                                  model_id=self.model_id, model_hash=self.model_hash,
                                  num_layers=len(layers))
        return container.pack(header, layers, params=params, roi=roi)

    def unpack(self, data: bytes) -> container.GicFile:
        """The container of `data`, if this codec with these weights can decode it."""
        f = container.unpack(data)
        if f.header.codec != self.name:
            raise GicFormatError(f"file was written by codec {f.header.codec!r}, not {self.name!r}")
        container.check_model(f.header, self.model_id, self.model_hash, self.loaded.also_decodes)
        return f

    def latent_size(self, height: int, width: int) -> tuple[int, int]:
        """Latent grid (rows, columns) of an image: ceil(size / factor)."""
        return -(-height // self.factor), -(-width // self.factor)

    # -- tensors ---------------------------------------------------------------------------------
    def to_tensor(self, image: np.ndarray) -> "torch.Tensor":
        """1 x 3 x H x W float in [0, 1] on this codec's device."""
        import torch

        if not image.flags.writeable:  # e.g. np.asarray(PIL image): torch warns on read-only arrays
            image = image.copy()
        return torch.from_numpy(image).permute(2, 0, 1)[None].float().div_(255.0).to(self.device)

    def to_array(self, image: np.ndarray) -> FloatImage:
        """`to_tensor` for ONNX Runtime: 1 x 3 x H' x W' float32 in [0, 1] (the same values),
        edge-replicated to a multiple of `factor` as the torch models pad; converted a slice at a
        time (`learned.tiling.FloatImage`: `analyse_tiled` reads it tile by tile)."""
        return FloatImage(image, self.factor)

    @staticmethod
    def to_image(y: "torch.Tensor | np.ndarray", height: int, width: int) -> np.ndarray:
        """HxWx3 uint8 of a 1 x 3 x H' x W' network output (cropped, clamped, rounded; numpy rounds
        half to even as torch does)."""
        if isinstance(y, np.ndarray):
            y = np.round(np.clip(y[0, :, :height, :width], 0, 1) * np.float32(255))
            return np.ascontiguousarray(y.astype(np.uint8).transpose(1, 2, 0))
        y = y[0, :, :height, :width].clamp(0, 1).mul(255).round()
        return y.byte().permute(1, 2, 0).cpu().numpy()

    # -- tiling hook -------------------------------------------------------------------------------
    def analyse_tiled(self, analyse: Callable[[Any], Any], x: Any, progress: ProgressFn | None = None) -> Any:
        """`analyse` of an image padded to a multiple of `factor`, tile by tile when large
        (`progress` per tile; it returning True raises Cancelled)."""
        return analyse_tiled(analyse, x, self.factor, self.tile, self.halo, progress)

    def synthesise_tiled(self, synthesise: Callable[..., Any], *grids: Any) -> Any:
        """`synthesise(*grids)` of latent-grid tensors (torch or numpy), tile by tile when large."""
        return synthesise_tiled(synthesise, grids, self.factor, self.tile, self.halo)

    def synthesise_image(self, synthesise: Callable[..., Any], *grids: Any, height: int, width: int,
                         progress: ProgressFn | None = None) -> np.ndarray:
        """The HxWx3 uint8 image of `synthesise(*grids)`, written tile by tile into the output
        (memory bounded by the tile, not the image; `progress` after each tile, True cancels).

        On torch's CPU path each tile runs with single-threaded kernels (`learned.threads`) on a
        pool of as many threads as torch had: the same pixels for any thread count.
        """
        def run(**pool: Any) -> np.ndarray:
            return synthesise_image(synthesise, grids, self.factor, height, width, self.to_image,
                                    tile=self.tile, halo=self.halo, progress=progress,
                                    cancelled=Cancelled, **pool)

        if self.runtime != "torch" or self.device != "cpu":
            return run()
        import torch

        from .threads import single_threaded_kernels

        inner = synthesise

        def synthesise(*g: Any) -> Any:  # inference mode is per thread: each tile worker enters it
            with torch.inference_mode():
                return inner(*g)

        with single_threaded_kernels() as workers:
            return run(workers=workers)
