"""Cold start: a fresh process decoding a 768x512 .gic, and the viewer's first picture, against
`python -c "import torch"` measured in the same run (issue 27). Medians of interleaved runs.

    python benchmarks/cold_start.py [--runs 7] [--json out.json]

Rows (wall time from launch; every row is a new interpreter):
- import torch / import onnxruntime: the peers;
- gic decode (onnx) / gic decode (torch): `gic decode` of the bundled sample (768x512, 12 layers),
  default runtime vs GIC_RUNTIME=torch;
- gic decode mcdh (onnx / torch): the same for an MCDH .gic of the sample's image (default level),
  encoded once at the start;
- viewer first picture (onnx / torch): launch to the first decoded layer of the bundled sample in
  the window (offscreen Qt), the way `gic view` opens it.
Then, warm in this process: the sample's 12-layer synthesis on each runtime (the network alone),
and the MCDH file's whole decode (integer entropy path + synthesis) on each runtime.
`--rows decode,mcdh` keeps only the rows whose name contains one of the words (and the peers).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VIEWER = r"""
import os, sys, time
from gic.app import prefetch, view_command
from gic.resources import path
prefetch.start(path("samples", "kodim23.gic"))  # as `gic view` does before it builds the window
app = view_command._make_app(offscreen=True)
from gic.app.main_window import MainWindow
window = MainWindow()
window.resize(1280, 800)
window.show()
def seen(event, doc, _layer):
    if event == "layer" and doc.previews:
        app.processEvents()  # the picture is painted
        print(repr(time.time()), sorted(m for m in ("torch", "onnxruntime") if m in sys.modules), flush=True)
        os._exit(0)  # the later layers are still decoding: measured is the first picture
    if event == "error":
        print("error", doc.error, file=sys.stderr, flush=True); os._exit(1)
window.open_path(path("samples", "kodim23.gic"))
window.doc.subscribe(seen)
sys.exit(app.exec())
"""


def timed(argv: list[str], env: dict[str, str], until_printed: bool = False) -> float:
    """Seconds from launch to exit (or to the time the child prints, with until_printed)."""
    t0 = time.time()
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    t1 = time.time()
    if r.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {r.stderr[-800:]}")
    return (float(r.stdout.strip().splitlines()[-1].split()[0]) if until_printed else t1) - t0


def warm_synthesis(runs: int) -> dict[str, float]:
    """Median seconds of the bundled sample's full-depth synthesis per runtime, interleaved."""
    import numpy as np

    from gic.codecs.progic.codec import ProGICCodec
    from gic.resources import path

    codecs = {r: ProGICCodec(runtime=r) for r in ("onnx", "torch")}
    f, depth = codecs["onnx"]._open(path("samples", "kodim23.gic").read_bytes())
    idx = np.zeros((codecs["onnx"].stages,) + depth.shape, dtype=np.int64)
    for k in range(1, len(f.layers) + 1):
        codecs["onnx"]._decode_layer(f, depth, idx, k)
    times: dict[str, list[float]] = {r: [] for r in codecs}
    for i in range(runs + 1):
        for r, c in codecs.items():
            t0 = time.perf_counter()
            c._synthesise(idx, depth, f.header.height, f.header.width)
            if i:  # the first call opens the session / warms the allocator
                times[r].append(time.perf_counter() - t0)
    return {f"synthesis 768x512 warm ({r})": statistics.median(v) for r, v in times.items()}


def warm_mcdh_decode(runs: int, data: bytes) -> dict[str, float]:
    """Median seconds of an MCDH file's whole decode per runtime, interleaved (first call: warm-up)."""
    from gic.codecs.mcdh.codec import MCDHCodec

    codecs = {r: MCDHCodec(runtime=r) for r in ("onnx", "torch")}
    times: dict[str, list[float]] = {r: [] for r in codecs}
    for i in range(runs + 1):
        for r, c in codecs.items():
            t0 = time.perf_counter()
            c.decode(data)
            if i:
                times[r].append(time.perf_counter() - t0)
    return {f"mcdh decode 768x512 warm ({r})": statistics.median(v) for r, v in times.items()}


def mcdh_sample(folder: Path) -> Path | None:
    """The sample image as an MCDH .gic (default level), or None without MCDH weights."""
    from gic.codecs import registry
    from gic.codecs.imageio import load_image
    from gic.resources import path

    if "mcdh" not in registry.names():
        return None
    out = folder / "kodim23.mcdh.gic"
    out.write_bytes(registry.create("mcdh").encode(load_image(path("samples", "kodim23.png"))))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--json", help="also write the medians here")
    p.add_argument("--rows", default="", help="comma-separated words: only rows whose name has one")
    args = p.parse_args()
    from gic.resources import path

    py = sys.executable
    sample = str(path("samples", "kodim23.gic"))
    folder = Path(tempfile.mkdtemp())
    out = str(folder / "out.png")
    mcdh = mcdh_sample(folder)
    base = {k: v for k, v in os.environ.items() if k != "GIC_RUNTIME"}
    base["QT_QPA_PLATFORM"] = "offscreen"
    torch_env = {**base, "GIC_RUNTIME": "torch"}
    decode = [py, "-m", "gic.cli.main", "decode", sample, out]
    rows = {
        "import torch": ([py, "-c", "import torch"], base, False),
        "import onnxruntime": ([py, "-c", "import onnxruntime"], base, False),
        "gic decode (onnx)": (decode, base, False),
        "gic decode (torch)": (decode, torch_env, False),
        **({"gic decode mcdh (onnx)": (decode[:-2] + [str(mcdh), out], base, False),
            "gic decode mcdh (torch)": (decode[:-2] + [str(mcdh), out], torch_env, False)} if mcdh else {}),
        "viewer first picture (onnx)": ([py, "-c", VIEWER], base, True),
        "viewer first picture (torch)": ([py, "-c", VIEWER], torch_env, True),
    }
    words = [w for w in args.rows.split(",") if w]
    if words:
        rows = {k: v for k, v in rows.items() if k.startswith("import") or any(w in k for w in words)}
    for argv, env, until in rows.values():  # warm the file cache once
        timed(argv, env, until)
    times: dict[str, list[float]] = {k: [] for k in rows}
    for _ in range(args.runs):  # interleaved, so a busy moment hits every row alike
        for name, (argv, env, until) in rows.items():
            times[name].append(timed(argv, env, until))
    med = {k: statistics.median(v) for k, v in times.items()}
    peer = med["import torch"]
    print(f"{'row':<30} {'median s':>9} {'vs import torch':>16}   (runs: {args.runs})")
    for k, v in med.items():
        print(f"{k:<30} {v:>9.3f} {v / peer:>15.2f}x")
    warm = warm_synthesis(args.runs) if "gic decode (onnx)" in rows else {}
    if "gic decode mcdh (onnx)" in rows:
        warm.update(warm_mcdh_decode(args.runs, mcdh.read_bytes()))
    for k, v in warm.items():
        print(f"{k:<30} {v:>9.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": args.runs, "median_s": med, "warm_s": warm,
                                               "ratio_to_import_torch": {k: v / peer for k, v in med.items()},
                                               "all_s": times}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
