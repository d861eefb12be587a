"""Export MCDH's float networks to ONNX graphs beside its weights (needs torch; see
`learned.onnx_export` for how and `learned.runtime` for what runs them).

`gic train --family mcdh --export-onnx WEIGHTS` writes, for `X.pt`:
- `X.analysis.onnx`: image (1 x 3 x H x W in [0, 1], multiples of 16) + rate level (int64 [1],
  0-based) -> the gain-scaled latent before rounding (tileable, as the codec tiles it);
- `X.hyper.onnx`: that latent (whole) -> spatial hyper-latent (1/64) and channel hyper-latent,
  before rounding;
- `X.synthesis.onnx`: the decoded latent in real units (1 x m x h x w) + level -> image
  (unclamped), the inverse gain inside;
- `X.runtime.npz`: identity, config, the integer coding tables and the entropy-parameter weights
  that `fixed.FixedEntropy` runs (exact integer numpy on both runtimes, so no graph for it).
H and W are dynamic; the example is several attention windows with a ragged edge on each axis, so a
size-dependent step (the window padding `-h % window`) is traced as arithmetic, not as a constant
(the parity tests run sizes that are not multiples of the window). The same weights give the same
files byte for byte.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..learned import runtime
from ..learned.onnx_export import export_graph
from .onnx_model import GRAPHS
from .weights import FAMILY, load_mcdh

FACTOR = 16  # pixels per latent position


class Analysis(nn.Module):
    """Image + level -> gain-scaled latent (the codec's `latents` before the hyper-analysis)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        return self.model.analyse(image) * self.model.gain(level)


class Hyper(nn.Module):
    """Gain-scaled latent -> (spatial hyper-latent, channel hyper-latent), unrounded."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.hyper_analyse(latent)


class Synthesis(nn.Module):
    """Decoded latent (real units, gain-scaled) + level -> image: inverse gain, then g_s."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, latent: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        return self.model.synthesise(latent * self.model.inv_gain(level))


def sidecar_arrays(loaded) -> dict[str, np.ndarray]:
    """What the torch-free path needs besides the graphs: the coding tables as shipped and the
    entropy-parameter weights (fp16 on disk, as in the weight file: exact)."""
    arrays = {"y_tables": loaded.y_tables.freq.astype(np.int32),
              "zs_tables": loaded.zs_tables.freq.astype(np.int32),
              "zc_tables": loaded.zc_tables.freq.astype(np.int32),
              "y_thresholds": loaded.fixed.thresholds.astype(np.int32)}
    for k, v in loaded.model.state_dict().items():
        if k.startswith("entropy.") and v.is_floating_point():
            arrays["state." + k] = v.detach().cpu().half().numpy()
    return arrays


def export_onnx(weights: str | Path) -> dict[str, int]:
    """Write the graphs and the sidecar beside `weights`; their sizes in bytes by file name."""
    weights = Path(weights)
    loaded = load_mcdh(weights)
    model, cfg = loaded.model, loaded.config
    # several windows per axis and a ragged edge on both (h, w not multiples of the window)
    h, w = 2 * cfg.window + 3, 3 * cfg.window + 1
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, h * FACTOR, w * FACTOR, generator=gen)
    latent = torch.randn(1, cfg.m, h, w, generator=gen) * 4
    level = torch.tensor([cfg.levels - 1])
    meta = {"family": FAMILY, "gic.model_id": loaded.model_id}
    grid = {2: "rows", 3: "columns"}
    pixels = {2: "height", 3: "width"}
    sizes = {}
    for graph, module, args, names, outs, axes in (
            ("analysis", Analysis(model), (image, level), ["image", "level"], ["latent"],
             {"image": pixels, "latent": grid}),
            ("hyper", Hyper(model), (latent,), ["latent"], ["zs", "zc"],
             {"latent": grid, "zs": {2: "zs_rows", 3: "zs_columns"}}),
            ("synthesis", Synthesis(model), (latent, level), ["latent", "level"], ["image"],
             {"latent": grid, "image": pixels})):
        path = runtime.graph_path(weights, graph)
        sizes[path.name] = export_graph(module, args, path, names, outs, axes, loaded.model_hash,
                                        {**meta, "graph": graph})
    side = runtime.write_sidecar(weights, {
        "family": FAMILY, "model_id": loaded.model_id, "model_hash": loaded.model_hash.hex(),
        "config": cfg.to_dict(), "info": loaded.info, "graphs": list(GRAPHS),
        "torch": torch.__version__}, **sidecar_arrays(loaded))
    sizes[side.name] = side.stat().st_size
    return sizes
