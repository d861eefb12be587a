"""Shippable ProGIC weight files: fp16 tensors, architecture, entropy tables, identity and hash.

The hash (first 16 bytes of the file's SHA-256) goes into every .gic header, so a file is never
decoded with weights other than the ones that wrote it.
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import CodecError
from .entropy import frequency_table
from .model import ModelConfig, ProGIC

FORMAT = "gic-progic-weights/1"


@dataclass
class LoadedModel:
    model: ProGIC
    tables: np.ndarray  # S x K integer frequency tables
    model_id: str
    model_hash: bytes  # 16 bytes
    info: dict


def tables_from_model(model: ProGIC) -> np.ndarray:
    """Per-stage index frequency tables from the quantiser's EMA usage counts (training data)."""
    counts = model.rvq.ema_count.detach().cpu().double().numpy()
    return np.stack([frequency_table(c) for c in counts]).astype(np.int32)


def export_checkpoint(ckpt_path: str | Path, out_path: str | Path, model_id: str) -> dict:
    """Write fp16 weights + config + tables from a training checkpoint (atomically)."""
    ckpt_path = Path(ckpt_path)
    if not ckpt_path.exists():
        raise CodecError(f"no checkpoint at {ckpt_path}")
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    model = ProGIC(ModelConfig.from_dict(ck["model_config"]))
    model.load_state_dict(ck["model"])
    return save_model(model, out_path, model_id, step=ck["step"],
                      history=[h for h in ck.get("history", []) if "eval" in h][-5:],
                      train_config=ck.get("train_config", {}))


def save_model(model: ProGIC, out_path: str | Path, model_id: str, **info) -> dict:
    state = {}
    for k, v in model.state_dict().items():
        if k.startswith("rvq.ema_") or k == "rvq.initialised":
            continue  # training-only statistics
        state[k] = v.half() if v.is_floating_point() else v
    blob = {"format": FORMAT, "model_id": model_id, "config": model.cfg.to_dict(),
            "state_dict": state, "tables": torch.from_numpy(tables_from_model(model)), "info": info}
    buf = io.BytesIO()
    torch.save(blob, buf)
    data = buf.getvalue()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out_path)
    return {"model_id": model_id, "hash": hashlib.sha256(data).hexdigest()[:32], "bytes": len(data),
            "step": info.get("step")}


def load_model(path: str | Path, device: str = "cpu") -> LoadedModel:
    """Load a weight file written by save_model (fp16 on disk, fp32 in memory)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodecError(f"cannot read model weights {path}: {exc.strerror or exc}") from None
    try:
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CodecError(f"{path} is not a gic model weight file ({type(exc).__name__})") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CodecError(f"{path} is not a gic model weight file")
    model = ProGIC(ModelConfig.from_dict(blob["config"]))
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("rvq.ema_") and k != "rvq.initialised"]
    if missing or unexpected:
        raise CodecError(f"{path} does not match the ProGIC architecture")
    model.eval().to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(model, blob["tables"].numpy().astype(np.int64), blob["model_id"],
                       hashlib.sha256(data).digest()[:16], blob.get("info", {}))
