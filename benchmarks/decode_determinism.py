"""How far ProGIC's decoded pixels move with the thread count and the CPU's kernel set.

Encodes a few images once (torch), then decodes every file in child processes with torch pinned
to each kernel set (ATEN_CPU_CAPABILITY=default/avx2/avx512, those the CPU has) and to 1 or 2
threads, on torch and on ONNX Runtime, and counts the uint8 values that differ from the first run
(AVX2, 1 thread). The entropy-decoded indices are integers and the same everywhere; only the float
synthesis can move. Usage:

    python benchmarks/decode_determinism.py /work/shared/datasets/kodak --limit 4
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import sys, numpy as np
runtime, threads, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if runtime == "torch":
    import torch
    torch.set_num_threads(threads)
from gic.codecs import registry
codec = registry.create("progic", runtime=runtime)
cap = "n/a"
if runtime == "torch":
    cap = torch.backends.cpu.get_cpu_capability()
arrays = [codec.decode(open(p, "rb").read()) for p in sys.argv[4:]]
np.savez(out, *arrays)
print(cap)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--limit", type=int, default=4)
    args = ap.parse_args()
    from gic.codecs import registry
    from gic.codecs.imageio import list_images, load_image

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    caps = ["default"] + [c for c, flag in (("avx2", " avx2"), ("avx512", " avx512f")) if flag in flags]
    codec = registry.create("progic", runtime="torch")
    tmp = Path(tempfile.mkdtemp())
    files = []
    for src in list_images(args.folder, args.limit):
        dst = tmp / (src.stem + ".gic")
        dst.write_bytes(codec.encode(load_image(src)))
        files.append(str(dst))
    runs = [("torch", cap, n) for cap in caps for n in (1, 2)] + [("onnx", "-", n) for n in (1, 2)]
    results, ref = [], None
    for runtime, cap, threads in runs:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        if runtime == "torch":
            env["ATEN_CPU_CAPABILITY"] = cap
        out = tmp / f"{runtime}-{cap}-{threads}.npz"
        r = subprocess.run([sys.executable, "-c", CHILD, runtime, str(threads), str(out), *files],
                           capture_output=True, text=True, env=env, check=True)
        got = np.load(out)
        arrays = [got[k].astype(int) for k in sorted(got.files, key=lambda k: int(k.split("_")[1]))]
        if ref is None and runtime == "torch" and cap == ("avx2" if "avx2" in caps else "default"):
            ref = arrays
        results.append((runtime, r.stdout.strip().splitlines()[-1], threads, arrays))
    if ref is None:
        ref = results[0][3]
    rows = []
    for runtime, used, threads, arrays in results:
        diffs = [np.abs(a - b) for a, b in zip(arrays, ref)]
        rows.append({"runtime": runtime, "kernels": used, "threads": threads,
                     "values_differing_per_image": [int((d > 0).sum()) for d in diffs],
                     "max_difference": int(max(d.max() for d in diffs)),
                     "values_per_image": int(ref[0].size)})
    print(json.dumps({"images": [Path(f).stem for f in files], "reference": "torch AVX2 1 thread"}))
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
