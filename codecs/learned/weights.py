"""The shippable weight-file format every learned family uses, and its reader/writer.

A weight file is one `torch.save` dict: `format`, `family`, `model_id`, `config` (the family's
architecture), `state_dict` (fp16 floats on disk), `info` (training provenance; `decodes` lists
the models whose files these weights read), plus family tensors (entropy tables...). Its hash
(the first 16 bytes of the file's SHA-256) goes into every .gic header, so a file is never
decoded with weights other than the ones that wrote it.

Files written before the format was shared say `gic-progic-weights/1` and name no family: they
read as family "progic".
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CodecError

if TYPE_CHECKING:  # torch loads only to read or write a weight file (`also_decodes` needs none)
    import torch

FORMAT = "gic-learned-weights/1"
#: Earlier format names → the family they imply.
LEGACY_FORMATS = {"gic-progic-weights/1": "progic"}


@dataclass
class WeightFile:
    """A weight file as read: everything in it, its identity and its hash."""

    family: str
    model_id: str
    config: dict
    state_dict: dict[str, torch.Tensor]  # fp32 floats (fp16 on disk)
    info: dict
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)  # the family's other entries
    model_hash: bytes = b""  # 16 bytes

    @property
    def also_decodes(self) -> list[tuple[str, bytes]]:
        return also_decodes(self.info)


def hash_of(data: bytes) -> bytes:
    """A weight file's identity from its bytes: the first 16 bytes of their SHA-256."""
    return hashlib.sha256(data).digest()[:16]


def also_decodes(info: dict) -> list[tuple[str, bytes]]:
    """Other models (id, hash) whose files weights with this `info` decode (same bitstream)."""
    return [(str(i), bytes.fromhex(h)) for i, h in info.get("decodes", [])]


_RESERVED = {"format", "family", "model_id", "config", "state_dict", "info"}


def write_weights(path: str | Path, family: str, model_id: str, config: dict,
                  state_dict: dict[str, torch.Tensor], info: dict | None = None,
                  format: str = FORMAT, **tensors: torch.Tensor) -> dict:
    """Write a weight file atomically (floats as fp16); returns id, hash (hex), size and step."""
    import torch

    state = {k: v.half() if v.is_floating_point() else v for k, v in state_dict.items()}
    blob = {"format": format, "model_id": model_id, "config": config, "state_dict": state,
            "info": dict(info or {}), **tensors}
    if format == FORMAT:
        blob["family"] = family
    buf = io.BytesIO()
    torch.save(blob, buf)
    data = buf.getvalue()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return {"model_id": model_id, "hash": hash_of(data).hex(), "bytes": len(data),
            "step": blob["info"].get("step")}


def read_weights(path: str | Path, family: str | None = None) -> WeightFile:
    """Read a weight file (any family, or check it is `family`'s); CodecError on anything else."""
    import torch

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodecError(f"cannot read model weights {path}: {exc.strerror or exc}") from None
    try:
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types on a file that is not its own
        raise CodecError(f"{path} is not a gic model weight file ({type(exc).__name__})") from None
    fmt = blob.get("format") if isinstance(blob, dict) else None
    if fmt == FORMAT:
        found = str(blob.get("family", ""))
    elif fmt in LEGACY_FORMATS:
        found = LEGACY_FORMATS[fmt]
    else:
        raise CodecError(f"{path} is not a gic model weight file")
    if family is not None and found != family:
        raise CodecError(f"{path} holds {found!r} weights, not {family!r}")
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    return WeightFile(family=found, model_id=blob["model_id"], config=dict(blob["config"]),
                      state_dict=state, info=blob.get("info", {}),
                      tensors={k: v for k, v in blob.items() if k not in _RESERVED},
                      model_hash=hash_of(data))
