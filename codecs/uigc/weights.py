"""UIGC's weight file: the prior (fp16), its config, the fixed-point LUTs and the tokenizer it codes.

The tokenizer is named by its registered codec and pinned by its model hash: a prior is only
valid over the exact tokens it was trained on.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import CodecError
from ..learned.weights import WeightFile, read_weights, write_weights
from .fixed import FixedPrior, luts
from .prior import PriorConfig

FAMILY = "uigc"


@dataclass
class LoadedPrior:
    model_id: str
    model_hash: bytes
    also_decodes: list
    config: PriorConfig
    state_dict: dict[str, torch.Tensor]
    fixed: FixedPrior
    tokenizer: str  # registered codec name
    tokenizer_hash: bytes
    info: dict


def load_prior(path: str | Path) -> LoadedPrior:
    wf: WeightFile = read_weights(path, FAMILY)
    try:
        cfg = PriorConfig(**wf.config)
        tables = {k: wf.tensors[k].numpy() for k in ("att_exp", "out_exp")}
        tokenizer, tok_hash = str(wf.info["tokenizer"]), bytes.fromhex(wf.info["tokenizer_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"{path} is not a complete UIGC weight file ({exc})") from None
    state = {k: v.numpy() for k, v in wf.state_dict.items()}
    return LoadedPrior(wf.model_id, wf.model_hash, wf.also_decodes, cfg, wf.state_dict,
                       FixedPrior(cfg, state, tables), tokenizer, tok_hash, wf.info)


def export_prior(checkpoint: str | Path, out: str | Path, model_id: str, tokenizer: str,
                 tokenizer_hash: bytes, info: dict | None = None) -> dict:
    """Shippable fp16 weights from a training checkpoint (last.pt), with the fixed-point LUTs."""
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    meta = {"step": ck.get("step"), "tokenizer": tokenizer, "tokenizer_hash": tokenizer_hash.hex(),
            "train_config": ck.get("train_config", {}), **(info or {})}
    tables = {k: torch.from_numpy(np.asarray(v)) for k, v in luts().items()}
    return write_weights(out, FAMILY, model_id, ck["model_config"], ck["model"], meta, **tables)
