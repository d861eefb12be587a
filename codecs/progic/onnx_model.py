"""ProGIC's networks on ONNX Runtime: what `weights.LoadedModel` gives the codec, without torch.

Built from the files `onnx_export` writes beside the weights; the weight file itself is only
hashed (its identity), never unpickled.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CodecError
from ..learned import runtime
from ..learned.weights import also_decodes

GRAPHS = ("analysis", "synthesis")


@dataclass
class OnnxLoadedModel:
    analysis: runtime.OnnxGraph
    synthesis: runtime.OnnxGraph
    tables: np.ndarray  # S x K integer frequency tables
    context: np.ndarray | None  # C x 3 x K x K conditional tables for the first C stages
    model_id: str
    model_hash: bytes
    info: dict
    stages: int

    @property
    def also_decodes(self) -> list[tuple[str, bytes]]:
        return also_decodes(self.info)

    def analyse(self, image: np.ndarray) -> np.ndarray:
        """S x 1 x h x w indices of a 1 x 3 x H x W float32 image (H, W multiples of 16)."""
        return self.analysis(image=np.ascontiguousarray(image, dtype=np.float32))

    def synthesise(self, indices: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """1 x 3 x 16h x 16w float32 image (unclamped) of S x 1 x h x w indices and a 1 x h x w depth map."""
        return self.synthesis(indices=np.ascontiguousarray(indices, dtype=np.int64),
                              depth=np.ascontiguousarray(depth, dtype=np.int64))


def load_onnx_model(weights: str | Path) -> OnnxLoadedModel:
    """The exported graphs and tables of `weights` (checked against its hash by `runtime.choose`)."""
    meta, arrays = runtime.read_sidecar(runtime.sidecar_path(weights))
    try:
        model_hash = bytes.fromhex(meta["model_hash"])
        stages = int(meta["config"]["stages"])
        tables = arrays["tables"].astype(np.int64)
    except (KeyError, TypeError, ValueError):
        raise CodecError(f"{runtime.sidecar_path(weights)} lacks ProGIC's identity or tables") from None
    context = arrays.get("context")
    return OnnxLoadedModel(
        analysis=runtime.OnnxGraph(runtime.graph_path(weights, "analysis"), model_hash),
        synthesis=runtime.OnnxGraph(runtime.graph_path(weights, "synthesis"), model_hash),
        tables=tables, context=None if context is None else context.astype(np.int64),
        model_id=str(meta["model_id"]), model_hash=model_hash, info=dict(meta.get("info") or {}),
        stages=stages)
