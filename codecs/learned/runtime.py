"""Which runtime runs a learned codec's network: ONNX Runtime for inference on CPU, torch otherwise.

Why: `import torch` alone takes seconds on a small machine, longer than a 768x512 decode; ONNX
Runtime imports in a fraction of that and runs the same graphs at about the same speed. Torch stays
the reference implementation (golden tests), the training tool and the CUDA path.

The graphs are exported from the torch weights (`gic train --family NAME --export-onnx WEIGHTS`)
and shipped beside them: for weights `X.pt`, `X.<graph>.onnx` per graph and `X.runtime.npz` with
everything else decoding needs (identity, config, the family's integer tables). The weight file's
hash stays the model's identity: the sidecar and every graph record it, and files are used only if
it matches the weight file next to them, so a stale export is never run (torch is, instead).

Choice (`choose`): torch when asked (`runtime="torch"` or `GIC_RUNTIME=torch`) or for a device other
than cpu; ONNX Runtime when its files match and `onnxruntime` is installed; torch otherwise.
`GIC_RUNTIME=onnx` makes a missing or stale export an error instead of a fallback.
"""
from __future__ import annotations

import importlib.util
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CodecError
from .weights import hash_of

ENV = "GIC_RUNTIME"
RUNTIMES = ("auto", "torch", "onnx")
SIDECAR_FORMAT = "gic-onnx-runtime/1"
#: ONNX metadata key holding the hex hash of the weight file a graph was exported from.
HASH_KEY = "gic.model_hash"


def weights_hash(path: str | Path) -> bytes:
    """A weight file's identity, the same 16 bytes `learned.weights.read_weights` reports."""
    try:
        return hash_of(Path(path).read_bytes())
    except OSError as exc:
        raise CodecError(f"cannot read model weights {path}: {exc.strerror or exc}") from None


def sidecar_path(weights: str | Path) -> Path:
    weights = Path(weights)
    return weights.with_name(weights.stem + ".runtime.npz")


def graph_path(weights: str | Path, graph: str) -> Path:
    weights = Path(weights)
    return weights.with_name(f"{weights.stem}.{graph}.onnx")


def requested(explicit: str | None = None) -> str:
    """The runtime asked for: the explicit option, else $GIC_RUNTIME, else "auto"."""
    value = (explicit or os.environ.get(ENV) or "auto").strip().lower()
    if value not in RUNTIMES:
        raise CodecError(f"unknown runtime {value!r} (from {'the option' if explicit else ENV}); "
                         f"expected one of {', '.join(RUNTIMES)}")
    return value


def onnx_unavailable(weights: str | Path, graphs: tuple[str, ...]) -> str | None:
    """Why these weights cannot run on ONNX Runtime (None: they can). Reads the sidecar's identity
    and hashes the weight file; opens no session."""
    if importlib.util.find_spec("onnxruntime") is None:
        return "onnxruntime is not installed"
    side = sidecar_path(weights)
    missing = [p.name for p in [side, *(graph_path(weights, g) for g in graphs)] if not p.is_file()]
    if missing:
        return f"no ONNX export beside {Path(weights).name} ({', '.join(missing)} missing)"
    try:
        meta = read_meta(side)
    except CodecError as exc:
        return str(exc)
    if meta.get("model_hash") != weights_hash(weights).hex():
        return f"{side.name} was exported from other weights than {Path(weights).name} (stale export)"
    return None


def choose(device: str, weights: str | Path, graphs: tuple[str, ...], explicit: str | None = None) -> str:
    """"torch" or "onnx" for running `graphs` of `weights` on `device` (see the module doc)."""
    want = requested(explicit)
    if want == "torch":
        return "torch"
    if device != "cpu":
        if want == "onnx":
            raise CodecError(f"the ONNX runtime runs on cpu only, not {device!r}")
        return "torch"
    why = onnx_unavailable(weights, graphs)
    if why is None:
        return "onnx"
    if want == "onnx":
        raise CodecError(f"the ONNX runtime was asked for, but {why}")
    return "torch"


# -- the sidecar: identity and tables, readable without torch ---------------------------------------
def write_sidecar(weights: str | Path, meta: dict[str, Any], **arrays: np.ndarray) -> Path:
    """`X.runtime.npz` beside weights `X.pt` (atomically): `meta` as JSON plus integer arrays."""
    path = sidecar_path(weights)
    meta = {"format": SIDECAR_FORMAT, **meta}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    os.replace(tmp, path)
    return path


def read_meta(path: str | Path) -> dict[str, Any]:
    with _open_npz(path) as z:
        return _meta(z, path)


def read_sidecar(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with _open_npz(path) as z:
        meta = _meta(z, path)
        return meta, {k: z[k] for k in z.files if k != "meta"}


def _open_npz(path: str | Path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CodecError(f"cannot read ONNX runtime file {path}: {exc}") from None


def _meta(z, path) -> dict[str, Any]:
    try:
        meta = json.loads(str(z["meta"]))
    except (KeyError, ValueError) as exc:
        raise CodecError(f"{path} is not a gic ONNX runtime file ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != SIDECAR_FORMAT:
        raise CodecError(f"{path} is not a gic ONNX runtime file")
    return meta


def _thread_limit() -> int:
    """Threads a session may use: $OMP_NUM_THREADS when set (as torch honours it), else 0 (ORT's
    default: one per physical core)."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0")))
    except ValueError:
        return 0


# -- sessions ------------------------------------------------------------------------------------
@dataclass
class OnnxGraph:
    """One exported graph, its session opened on first call (a decode never opens the analysis)."""

    path: Path
    model_hash: bytes
    #: False for a graph run once on a whole image's worth of data (MCDH's hyper-analysis): ORT's
    #: arena would keep its peak allocated for the rest of the process; per-tile graphs keep it.
    arena: bool = True
    _session: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.log_severity_level = 3  # warnings about unused initialisers are noise here
                # No busy-waiting between kernels: a decode runs a graph once, and on a busy machine the
                # spinning threads steal the core the work needs (measured, a fresh process opening
                # MCDH's synthesis and running it once, medians of 7 with a training job on one of
                # 2 cores: 0.85 s with spinning, 0.58 s without; opening the session 0.16 s vs 0.09 s).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                options.enable_cpu_mem_arena = self.arena
                threads = _thread_limit()
                if threads:  # e.g. a batch worker's share of the CPUs (ORT does not read OMP_NUM_THREADS)
                    options.intra_op_num_threads = threads
                try:
                    sess = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
                except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
                    raise CodecError(f"cannot load {self.path.name}: {exc}") from None
                found = sess.get_modelmeta().custom_metadata_map.get(HASH_KEY)
                if found != self.model_hash.hex():
                    raise CodecError(f"{self.path.name} was exported from other weights (hash {found})")
                self._session = sess
            return self._session

    def __call__(self, **inputs: np.ndarray) -> np.ndarray:
        """The graph's (first) output for named numpy inputs."""
        return self.session().run(None, inputs)[0]
