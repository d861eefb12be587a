"""ProGIC's weight files: its config, fp16 tensors and entropy tables in the shared format
(`gic.codecs.learned.weights`), measured and exported from a training checkpoint.

Decoder upgrades: weights exported from a decoder-only fine-tune keep the parent's encoder,
codebooks and entropy tables bit for bit (checked at export) and list the parent under
`info["decodes"]`, so files written by the parent still decode, with the better decoder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import CodecError
from ..learned.weights import also_decodes, read_weights, write_weights
from .entropy import context_tables, frequency_table
from .model import FACTOR, ModelConfig, ProGIC

FAMILY = "progic"
#: RVQ stages whose indices are coded with spatial context (measured: stage 1 saves ~29%,
#: stage 2 ~8%, stage 3 ~2% against the marginal; later stages ~0).
CONTEXT_STAGES = 3


@dataclass
class LoadedModel:
    model: ProGIC
    tables: np.ndarray  # S x K integer frequency tables
    context: np.ndarray | None  # C x 3 x K x K conditional tables for the first C stages
    model_id: str
    model_hash: bytes  # 16 bytes
    info: dict

    @property
    def also_decodes(self) -> list[tuple[str, bytes]]:
        """Other models (id, hash) whose files these weights decode (same bitstream)."""
        return also_decodes(self.info)

    @property
    def stages(self) -> int:
        return self.model.cfg.stages


def tables_from_model(model: ProGIC) -> np.ndarray:
    """Per-stage index frequency tables from the quantiser's EMA usage counts (training data)."""
    counts = model.rvq.ema_count.detach().cpu().double().numpy()
    return np.stack([frequency_table(c) for c in counts]).astype(np.int32)


@torch.inference_mode()
def estimate_tables(model: ProGIC, folder: str | Path, limit: int | None = None,
                    uniform_mix: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Per-stage index frequencies measured by encoding whole images of a folder.

    Why not the EMA counts: those follow the last few hundred training batches and are biased by
    the restarts; a table that is overconfident costs more than log2(K) bits. A little uniform
    mass keeps every code affordable on images unlike the training set.
    """
    from PIL import Image

    from ..imageio import list_images
    from ..learned.tiling import analyse_tiled

    cfg = model.cfg
    counts = np.zeros((cfg.stages, cfg.codes), dtype=np.float64)
    maps: list[list[np.ndarray]] = [[] for _ in range(min(CONTEXT_STAGES, cfg.stages))]
    was_training = model.training
    model.eval()
    for f in list_images(folder)[:limit]:
        with Image.open(f) as im:
            x = torch.from_numpy(np.array(im.convert("RGB"))).permute(2, 0, 1)[None].float() / 255
        grid = analyse_tiled(model.analyse, model.pad(x), FACTOR)[:, 0].numpy()
        idx = grid.reshape(cfg.stages, -1)
        for s in range(cfg.stages):
            counts[s] += np.bincount(idx[s], minlength=cfg.codes)
        for s, m in enumerate(maps):
            m.append(grid[s])
    model.train(was_training)
    p = counts / counts.sum(1, keepdims=True)
    p = (1 - uniform_mix) * p + uniform_mix / cfg.codes
    tables = np.stack([frequency_table(row) for row in p]).astype(np.int32)
    context = np.stack([context_tables(m, p[s]) for s, m in enumerate(maps)])
    return tables, context


def export_checkpoint(ckpt_path: str | Path, out_path: str | Path, model_id: str,
                      tables_data: str | Path | None = None, table_images: int = 200) -> dict:
    """Write fp16 weights + config + tables from a training checkpoint (atomically).

    Tables are measured on `tables_data` (default: the run's training folder) with the fp16-rounded
    weights that will ship, so they describe exactly the indices the shipped encoder produces.
    """
    ckpt_path = Path(ckpt_path)
    if not ckpt_path.exists():
        raise CodecError(f"no checkpoint at {ckpt_path}")
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    model = ProGIC(ModelConfig.from_dict(ck["model_config"]))
    model.load_state_dict(ck["model"])
    with torch.no_grad():  # what ships is fp16: measure the tables with fp16-rounded weights
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half().float())
    train_config = ck.get("train_config", {})
    extra = {}
    if train_config.get("train_only") == "decoder" and train_config.get("init"):
        # a decoder upgrade: same bitstream as the parent, so ship the parent's tables and say so
        parent = load_model(train_config["init"])
        _check_same_bitstream(model, parent)
        tables, context = parent.tables.astype(np.int32), parent.context
        extra["decodes"] = [[parent.model_id, parent.model_hash.hex()]] + list(parent.info.get("decodes", []))
    else:
        data = tables_data or train_config.get("data")
        tables, context = (estimate_tables(model, data, limit=table_images) if data and Path(data).is_dir()
                           else (None, None))
    return save_model(model, out_path, model_id, tables=tables, context=context, step=ck["step"],
                      history=[h for h in ck.get("history", []) if "eval" in h][-5:],
                      train_config=train_config, **extra)


def _check_same_bitstream(model: ProGIC, parent: LoadedModel) -> None:
    """Everything that decides a file's bytes (architecture of the analysis side, encoder weights,
    codebooks) must equal the parent's for it to read the parent's files."""
    mine, theirs = model.state_dict(), parent.model.state_dict()
    analysis = ("encoder.", "rvq.codebooks")
    keys = {k for k in theirs if k.startswith(analysis)}
    same_cfg = all(getattr(model.cfg, f) == getattr(parent.model.cfg, f)
                   for f in ("stages", "codes", "latent_dim", "enc_channels", "enc_blocks"))
    if (not same_cfg or keys != {k for k in mine if k.startswith(analysis)}
            or any(not torch.equal(mine[k].cpu(), theirs[k].cpu()) for k in keys)):
        raise CodecError(f"{parent.model_id}: the checkpoint's encoder or codebooks differ from the "
                         "weights it was fine-tuned from; it cannot read their files")


def save_model(model: ProGIC, out_path: str | Path, model_id: str,
               tables: np.ndarray | None = None, context: np.ndarray | None = None, **info) -> dict:
    state = {k: v for k, v in model.state_dict().items()
             if not (k.startswith("rvq.ema_") or k == "rvq.initialised")}  # training-only statistics
    extra = {"tables": torch.from_numpy(tables_from_model(model) if tables is None else tables)}
    if context is not None:  # uint16 values (<= 65281) stored bit-for-bit in an int16 tensor
        extra["context"] = torch.from_numpy(context.astype(np.uint16).view(np.int16))
    return write_weights(out_path, FAMILY, model_id, model.cfg.to_dict(), state, info, **extra)


def load_model(path: str | Path, device: str = "cpu") -> LoadedModel:
    """Load a ProGIC weight file (fp16 on disk, fp32 in memory)."""
    wf = read_weights(path, FAMILY)
    model = ProGIC(ModelConfig.from_dict(wf.config))
    missing, unexpected = model.load_state_dict(wf.state_dict, strict=False)
    missing = [k for k in missing if not k.startswith("rvq.ema_") and k != "rvq.initialised"]
    if missing or unexpected:
        raise CodecError(f"{path} does not match the ProGIC architecture")
    model.eval().to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    context = wf.tensors.get("context")
    if context is not None:
        context = context.numpy().view(np.uint16).astype(np.int64)
    return LoadedModel(model, wf.tensors["tables"].numpy().astype(np.int64), context, wf.model_id,
                       wf.model_hash, wf.info)
