"""Job threads and torch (app/workers.py)."""
from __future__ import annotations

import sys
import types
from importlib.machinery import ModuleSpec

from gic.app import workers


def test_a_job_runs_while_another_thread_is_still_importing_torch(monkeypatch):
    """Issue 24: an RD plot's metrics imported torch while a decode job started; the job saw the
    half-initialised module in sys.modules and failed on `torch.set_num_threads`."""
    half = types.ModuleType("torch")  # as sys.modules holds it mid-import: no attributes yet
    half.__spec__ = ModuleSpec("torch", None)
    half.__spec__._initializing = True
    monkeypatch.setitem(sys.modules, "torch", half)
    assert workers._torch_if_loaded() is None
    assert workers._run_with_torch(lambda ctx: 42, ctx=None) == 42
