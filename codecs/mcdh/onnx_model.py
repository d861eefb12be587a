"""MCDH's networks on ONNX Runtime: what `weights.LoadedMCDH` gives the codec, without torch.

Built from the files `onnx_export` writes beside the weights: the three graphs for the float
transforms, and from the sidecar the coding tables and the entropy-parameter weights that
`fixed.FixedEntropy` runs in exact integers (the same code as on torch, so the same tables). The
weight file itself is only hashed (its identity, checked by `runtime.choose`), never unpickled.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CodecError
from ..learned import runtime
from ..learned.entropy import TableSet
from ..learned.weights import also_decodes
from .config import MCDHConfig
from .fixed import FixedEntropy

GRAPHS = ("analysis", "hyper", "synthesis")
_STATE = "state."  # sidecar array names of the entropy-parameter weights


@dataclass
class OnnxMCDH:
    model_id: str
    model_hash: bytes
    config: MCDHConfig
    fixed: FixedEntropy
    y_tables: TableSet
    zs_tables: TableSet
    zc_tables: TableSet
    info: dict
    analysis: runtime.OnnxGraph
    hyper: runtime.OnnxGraph
    synthesis: runtime.OnnxGraph

    @property
    def also_decodes(self) -> list[tuple[str, bytes]]:
        return also_decodes(self.info)

    @staticmethod
    def _level(level: int) -> np.ndarray:
        return np.array([level], dtype=np.int64)

    def analyse(self, image: np.ndarray, level: int) -> np.ndarray:
        """1 x m x H/16 x W/16 gain-scaled latent (float32) of a 1 x 3 x H x W image at 0-based `level`."""
        return self.analysis(image=np.ascontiguousarray(image, dtype=np.float32), level=self._level(level))

    def hyper_analyse(self, latent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(spatial, channel) hyper-latents of a whole gain-scaled latent, unrounded."""
        zs, zc = self.hyper.session().run(None, {"latent": np.ascontiguousarray(latent, dtype=np.float32)})
        return zs, zc

    def synthesise(self, latent: np.ndarray, level: int) -> np.ndarray:
        """1 x 3 x 16h x 16w image (unclamped) of a decoded latent in real units at 0-based `level`."""
        return self.synthesis(latent=np.ascontiguousarray(latent, dtype=np.float32), level=self._level(level))


def load_onnx_mcdh(weights: str | Path) -> OnnxMCDH:
    """The exported graphs and tables of `weights` (checked against its hash by `runtime.choose`)."""
    side = runtime.sidecar_path(weights)
    meta, arrays = runtime.read_sidecar(side)
    try:
        model_hash = bytes.fromhex(meta["model_hash"])
        cfg = MCDHConfig(**meta["config"])
        state = {k[len(_STATE):]: v.astype(np.float32) for k, v in arrays.items() if k.startswith(_STATE)}
        fixed = FixedEntropy(cfg, state, arrays["y_thresholds"].astype(np.int64))
        tables = [TableSet(arrays[k].astype(np.int64)) for k in ("y_tables", "zs_tables", "zc_tables")]
        model_id, info = str(meta["model_id"]), dict(meta.get("info") or {})
    except (KeyError, TypeError, ValueError):
        raise CodecError(f"{side} lacks MCDH's identity, tables or entropy parameters") from None
    # the hyper-analysis runs once on the whole latent: no arena to hold its peak afterwards
    graphs = [runtime.OnnxGraph(runtime.graph_path(weights, g), model_hash, arena=g != "hyper") for g in GRAPHS]
    return OnnxMCDH(model_id, model_hash, cfg, fixed, *tables, info, *graphs)
