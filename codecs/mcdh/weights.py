"""MCDH's weight file: the network (fp16), its config, and the integer coding tables made at export
(Gaussian tables per quantised scale, their integer log-scale thresholds, the factorised priors'
tables), so decoding never evaluates a float density."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import CodecError
from ..learned.entropy import TableSet, frequency_table, scale_tables
from ..learned.weights import WeightFile, read_weights, write_weights
from .config import Y_SUPPORT, MCDHConfig, table_scales
from .fixed import FixedEntropy, scale_thresholds
from .model import MCDH

FAMILY = "mcdh"
TABLE_TOTAL = 1 << 20  # frequencies sum to this: a fine floor for the wide tails


@dataclass
class LoadedMCDH:
    model_id: str
    model_hash: bytes
    also_decodes: list
    config: MCDHConfig
    model: MCDH
    fixed: FixedEntropy
    y_tables: TableSet
    zs_tables: TableSet
    zc_tables: TableSet
    info: dict


def coding_tables(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The integer tables of a state dict (its floats as stored: fp16-rounded)."""
    def prior(key: str) -> np.ndarray:
        logits = state[key].half().double()
        p = torch.softmax(logits, -1).numpy()
        return np.stack([frequency_table(row, TABLE_TOTAL) for row in p])
    return {"y_tables": torch.from_numpy(scale_tables(table_scales(), Y_SUPPORT, "gaussian", TABLE_TOTAL)),
            "y_thresholds": torch.from_numpy(scale_thresholds(table_scales())),
            "zs_tables": torch.from_numpy(prior("prior_s.logits")),
            "zc_tables": torch.from_numpy(prior("prior_c.logits"))}


def load_mcdh(path: str | Path, device: str = "cpu") -> LoadedMCDH:
    wf: WeightFile = read_weights(path, FAMILY)
    try:
        cfg = MCDHConfig(**wf.config)
        t = {k: wf.tensors[k].numpy() for k in ("y_tables", "y_thresholds", "zs_tables", "zc_tables")}
        model = MCDH(cfg)
        model.load_state_dict(wf.state_dict)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CodecError(f"{path} is not a complete MCDH weight file ({exc})") from None
    model.eval().to(device)
    state = {k: v.numpy() for k, v in wf.state_dict.items()}
    return LoadedMCDH(wf.model_id, wf.model_hash, wf.also_decodes, cfg, model,
                      FixedEntropy(cfg, state, t["y_thresholds"]), TableSet(t["y_tables"]),
                      TableSet(t["zs_tables"]), TableSet(t["zc_tables"]), wf.info)


def export_weights(checkpoint: str | Path, out: str | Path, model_id: str, info: dict | None = None) -> dict:
    """Shippable fp16 weights from a training checkpoint (last.pt), with the integer tables."""
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state = {k: v for k, v in ck["model"].items()}
    meta = {"step": ck.get("step"), "train_config": ck.get("train_config", {}), **(info or {})}
    return write_weights(out, FAMILY, model_id, ck["model_config"], state, meta, **coding_tables(state))
