"""Where the metric networks' converted weights live, how they are read, and on which device they run.

LPIPS (AlexNet, ~5 MB in fp16) is shipped in `resources/weights/`. The DISTS trunk (VGG16, ~59 MB)
is not in the repository or the wheel (it would make the wheel six times larger for one optional
metric), so `python -m gic.codecs.metrics.convert --dists` converts it once at set-up time into the
user cache folder (or `$GIC_WEIGHTS_DIR`); the desktop bundle ships it in `resources/weights/`.
Nothing is ever fetched from a model hub.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, TypeVar

import torch

from gic import resources
from gic.codecs.errors import CodecError

#: Tag stored in every converted file, checked on load so a stray .pt file is rejected clearly.
FORMAT_TAG = "gic-metric-weights/1"

LPIPS_FILE = "lpips_alex_v0.1.pt"
DISTS_FILE = "dists_vgg16.pt"

#: The command that creates the DISTS weights file (quoted verbatim in error messages and the README).
DISTS_SETUP_COMMAND = "python -m gic.codecs.metrics.convert --dists"

WEIGHTS_DIR_ENV = "GIC_WEIGHTS_DIR"


def bundled_path(name: str) -> Path:
    """Path of a weights file shipped with the package (resources/weights/)."""
    return resources.path("weights", name)


def cache_dir() -> Path:
    """Folder for weights converted at set-up time: $GIC_WEIGHTS_DIR, else <user cache>/gic/weights."""
    override = os.environ.get(WEIGHTS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("gic")) / "weights"


def dists_path() -> Path:
    """Where `dists()` expects the converted VGG16 + alpha/beta file: $GIC_WEIGHTS_DIR if set, else
    the copy a desktop bundle ships beside the LPIPS weights, else the user cache folder."""
    if not os.environ.get(WEIGHTS_DIR_ENV):
        shipped = bundled_path(DISTS_FILE)
        if shipped.is_file():
            return shipped
    return cache_dir() / DISTS_FILE


def read_state_dict(path: Path, model: str, missing_hint: str | None = None) -> dict[str, torch.Tensor]:
    """Read a converted file written by the conversion script; tensors are returned as float32.

    Storage may be fp16 to keep the repository small; computing in fp32 is what reproduces the
    reference values, so everything is widened here.
    """
    if not path.is_file():
        hint = f"; run: {missing_hint}" if missing_hint else ""
        raise CodecError(f"{model} weights not found at {path}{hint}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged/foreign file
        raise CodecError(f"cannot read {model} weights {path}: {exc}".splitlines()[0]) from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT_TAG or blob.get("model") != model:
        raise CodecError(f"{path} is not a converted {model} weights file")
    state = blob["state_dict"]
    return {k: v.float() for k, v in state.items()}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """None means CUDA when available, else CPU; asking for CUDA without it is a clear error."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise CodecError(f"unknown device {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise CodecError("device 'cuda' requested but CUDA is not available")
    return dev


M = TypeVar("M", bound=torch.nn.Module)
_cache: dict[tuple[str, str], torch.nn.Module] = {}
_cache_lock = threading.Lock()


def cached_model(key: str, device: torch.device, factory: Callable[[torch.device], M]) -> M:
    """One instance of each metric network per device, built on first use (loading costs ~0.1-1 s)."""
    slot = (key, str(device))
    with _cache_lock:
        model = _cache.get(slot)
        if model is None:
            model = factory(device)
            _cache[slot] = model
    return model  # type: ignore[return-value]


def clear_cache() -> None:
    """Forget loaded networks (tests use it after changing $GIC_WEIGHTS_DIR)."""
    with _cache_lock:
        _cache.clear()
