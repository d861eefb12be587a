"""Whether PyTorch is installed, and the one error for a feature that needs it when it is not.

Inference of the shipped models runs on ONNX Runtime and numpy, so an installation without torch
(the torch-free viewer bundle, `GIC_BUNDLE_TORCH=0 bash packaging/build_bundle.sh`) decodes, encodes
and views. Training, LPIPS/DISTS, CUDA and the torch runtime need torch: they call `require_torch`
first, so the user gets one line naming the feature instead of a ModuleNotFoundError traceback.
Asking never imports torch (seconds), it only looks for it.
"""
from __future__ import annotations

import importlib.util
import sys

from .errors import CodecError


def have_torch() -> bool:
    """True when `import torch` can succeed (a loaded torch counts; nothing is imported)."""
    if sys.modules.get("torch") is not None:
        return True
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # blocked (sys.modules["torch"] = None) or a broken entry
        return False


def missing_torch_message(what: str) -> str:
    """The one-line reason `what` cannot run here."""
    return f"{what} needs PyTorch, which this installation leaves out (torch-free bundle); use gic with torch for it"


def require_torch(what: str) -> None:
    """CodecError naming `what` unless torch can be imported."""
    if not have_torch():
        raise CodecError(missing_torch_message(what))
