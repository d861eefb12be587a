"""UIGC's weight file: the prior (fp16), its config, the fixed-point LUTs and the tokenizer it codes.

The tokenizer is named by its registered codec and pinned by its model hash: a prior is only
valid over the exact tokens it was trained on.

Decoding needs no torch: the prior's coding path is numpy integer arithmetic (`fixed.py`), so its
arrays are also shipped in the runtime sidecar `X.runtime.npz` beside `X.pt` (`learned.runtime`:
the weight file's hash inside, used only while it matches). `load_prior` reads the sidecar unless
torch is asked for (`GIC_RUNTIME=torch`) or the sidecar is missing or stale.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CodecError
from ..learned import runtime as _runtime
from .config import PriorConfig
from .fixed import FixedPrior, luts

if TYPE_CHECKING:
    import torch

FAMILY = "uigc"
_TABLES = ("att_exp", "out_exp")
_STATE = "state."  # sidecar array names of the prior's parameters


@dataclass
class LoadedPrior:
    model_id: str
    model_hash: bytes
    also_decodes: list
    config: PriorConfig
    state: dict[str, np.ndarray]  # float32 (fp16-exact) parameters of the prior
    fixed: FixedPrior
    tokenizer: str  # registered codec name
    tokenizer_hash: bytes
    info: dict
    source: str = "torch"  # what read it: "torch" (the .pt) or "sidecar" (X.runtime.npz, no torch)

    def torch_state(self) -> dict[str, "torch.Tensor"]:
        """The parameters as tensors, for `TokenPrior.load_state_dict` (training, tests)."""
        import torch

        return {k: torch.from_numpy(v.copy()) for k, v in self.state.items()}


def _loaded(path, model_id, model_hash, decodes, config, info, state, tables, source) -> LoadedPrior:
    try:
        cfg = PriorConfig(**config)
        tokenizer, tok_hash = str(info["tokenizer"]), bytes.fromhex(info["tokenizer_hash"])
        fixed = FixedPrior(cfg, state, {k: tables[k] for k in _TABLES})
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"{path} is not a complete UIGC weight file ({exc})") from None
    return LoadedPrior(model_id, model_hash, decodes, cfg, state, fixed, tokenizer, tok_hash, info, source)


def _load_torch(path: str | Path) -> LoadedPrior:
    from ..learned.weights import read_weights

    wf = read_weights(path, FAMILY)
    state = {k: v.numpy() for k, v in wf.state_dict.items()}
    tables = {k: wf.tensors[k].numpy() for k in _TABLES if k in wf.tensors}
    return _loaded(path, wf.model_id, wf.model_hash, wf.also_decodes, wf.config, wf.info, state, tables, "torch")


def _load_sidecar(path: str | Path) -> LoadedPrior | None:
    """The prior from `X.runtime.npz`, or None if there is none for these exact weights."""
    side = _runtime.sidecar_path(path)
    if not side.is_file():
        return None
    meta, arrays = _runtime.read_sidecar(side)
    model_hash = _runtime.weights_hash(path)
    if meta.get("model_hash") != model_hash.hex() or meta.get("family") != FAMILY:
        return None
    from ..learned.weights import also_decodes

    state = {k[len(_STATE):]: v.astype(np.float32) for k, v in arrays.items() if k.startswith(_STATE)}
    return _loaded(path, str(meta["model_id"]), model_hash, also_decodes(meta["info"]), meta["config"],
                   meta["info"], state, arrays, "sidecar")


def load_prior(path: str | Path, runtime: str | None = None) -> LoadedPrior:
    """The prior of weight file `path`: from its sidecar (no torch) when it matches, else the .pt."""
    want = _runtime.requested(runtime)
    if want != "torch":
        found = _load_sidecar(path)
        if found is not None:
            return found
        if want == "onnx":
            raise CodecError(f"the torch-free runtime was asked for, but {Path(path).name} has no "
                             f"matching {_runtime.sidecar_path(path).name}")
    return _load_torch(path)


def write_runtime_sidecar(weights: str | Path) -> Path:
    """Write `X.runtime.npz` for weight file `X.pt`: everything `_load_sidecar` needs, no torch."""
    loaded = _load_torch(weights)
    meta = {"family": FAMILY, "model_id": loaded.model_id, "model_hash": loaded.model_hash.hex(),
            "config": loaded.config.as_dict(), "info": loaded.info}
    arrays = {_STATE + k: v.astype(np.float16) for k, v in loaded.state.items()}
    arrays.update({k: getattr(loaded.fixed, k) for k in _TABLES})
    return _runtime.write_sidecar(weights, meta, **arrays)


def export_prior(checkpoint: str | Path, out: str | Path, model_id: str, tokenizer: str,
                 tokenizer_hash: bytes, info: dict | None = None) -> dict:
    """Shippable fp16 weights from a training checkpoint (last.pt), with the fixed-point LUTs, and
    their torch-free runtime sidecar."""
    import torch

    from ..learned.weights import write_weights

    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    meta = {"step": ck.get("step"), "tokenizer": tokenizer, "tokenizer_hash": tokenizer_hash.hex(),
            "train_config": ck.get("train_config", {}), **(info or {})}
    tables = {k: torch.from_numpy(np.asarray(v)) for k, v in luts().items()}
    written = write_weights(out, FAMILY, model_id, ck["model_config"], ck["model"], meta, **tables)
    write_runtime_sidecar(out)
    return written
