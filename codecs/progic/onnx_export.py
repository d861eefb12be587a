"""Export ProGIC's analysis and synthesis to ONNX graphs beside its weights (needs torch; see
`learned.onnx_export` for how and `learned.runtime` for what runs them).

`gic train --family progic --export-onnx WEIGHTS` writes, for `X.pt`: `X.analysis.onnx` (image ->
indices, the RVQ's nearest-code search included), `X.synthesis.onnx` (indices + per-position depth
map -> image, the codebook lookup included) and `X.runtime.npz` (identity, config, entropy tables).
The depth map is a graph input and the exported decoder takes the general per-position path, so one
graph serves every progressive prefix and every ROI map; H and W are dynamic.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..learned import runtime
from ..learned.onnx_export import export_graph
from . import FACTOR
from .weights import FAMILY, load_model

GRAPHS = ("analysis", "synthesis")


class Analysis(nn.Module):
    """1 x 3 x H x W image in [0, 1], H and W multiples of 16 -> S x 1 x H/16 x W/16 int64 indices."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        m = self.model
        z = m.encoder(image)
        b, _, h, w = z.shape
        return m.rvq.encode(m._flat(z)).view(m.cfg.stages, b, h, w)


class Synthesis(nn.Module):
    """S x 1 x h x w int64 indices and 1 x h x w int64 depth map -> 1 x 3 x 16h x 16w (unclamped)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, indices: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        return self.model.synthesise(indices, depth)


def export_onnx(weights: str | Path) -> dict[str, int]:
    """Write the graphs and the sidecar beside `weights`; their sizes in bytes by file name."""
    weights = Path(weights)
    loaded = load_model(weights)
    model, cfg = loaded.model, loaded.model.cfg
    # an example with several windows per axis and a ragged edge, and a varying depth map
    h, w = 2 * cfg.window + 3, 3 * cfg.window + 1
    gen = torch.Generator().manual_seed(0)
    indices = torch.randint(0, cfg.codes, (cfg.stages, 1, h, w), generator=gen)
    depth = torch.randint(1, cfg.stages + 1, (1, h, w), generator=gen)
    image = torch.rand(1, 3, h * FACTOR, w * FACTOR, generator=gen)
    meta = {"family": FAMILY, "graph": ""}
    sizes = {}
    for graph, module, args, names, outs, axes in (
            ("analysis", Analysis(model), (image,), ["image"], ["indices"],
             {"image": {2: "height", 3: "width"}, "indices": {2: "rows", 3: "columns"}}),
            ("synthesis", Synthesis(model), (indices, depth), ["indices", "depth"], ["image"],
             {"indices": {2: "rows", 3: "columns"}, "depth": {1: "rows", 2: "columns"},
              "image": {2: "height", 3: "width"}})):
        path = runtime.graph_path(weights, graph)
        sizes[path.name] = export_graph(module, args, path, names, outs, axes, loaded.model_hash,
                                        {**meta, "graph": graph, "gic.model_id": loaded.model_id})
    arrays = {"tables": loaded.tables.astype(np.int32)}
    if loaded.context is not None:
        arrays["context"] = loaded.context.astype(np.uint16)
    side = runtime.write_sidecar(weights, {
        "family": FAMILY, "model_id": loaded.model_id, "model_hash": loaded.model_hash.hex(),
        "config": cfg.to_dict(), "info": loaded.info, "graphs": list(GRAPHS),
        "torch": torch.__version__}, **arrays)
    sizes[side.name] = side.stat().st_size
    return sizes
