"""Every shipped learned model that has a torch-free export runs on it by default: shipping new
weights without re-exporting would silently fall back to torch (slow start), so fail here instead."""
import importlib
import importlib.util

import pytest

from gic.codecs import registry
from gic.codecs.learned import runtime

HAS_ORT = importlib.util.find_spec("onnxruntime") is not None


def _exported() -> list[tuple[str, type]]:
    found = []
    for spec in registry.specs():
        if spec.learned and isinstance(spec.factory, str):
            module, _, attr = spec.factory.partition(":")
            cls = getattr(importlib.import_module(module), attr)
            if getattr(cls, "onnx_graphs", ()) or getattr(cls, "exports_runtime", False):
                found.append((spec.name, cls))
    return found


@pytest.mark.skipif(not HAS_ORT, reason="onnxruntime is not installed")
@pytest.mark.parametrize("name,cls", _exported(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_shipped_export_matches_the_shipped_weights(name, cls):
    weights = cls.default_weights()
    why = runtime.onnx_unavailable(weights, cls.onnx_graphs)
    assert why is None, f"{name}: {why}; re-export (docs/architecture.md, 'Runtimes': the command per family)"
    assert registry.create(name).runtime == "onnx"  # the default where the export is present
