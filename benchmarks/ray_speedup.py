"""Speed-up of `gic bench --ray` from 1 to N local Ray workers, on the same points.

Starts a local Ray instance with 1, then `--workers` CPUs, runs the same sweep on each (no speed
table, no plots), times it, checks the records agree, and writes what it measured. The wall time
includes starting the workers (each loads torch, the codecs and the metric networks once).

    python benchmarks/ray_speedup.py --data /work/shared/datasets/kodak --limit 4 \
        --out benchmarks/ray_speedup.json
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

SAME = ("image", "codec", "target", "quality", "bytes", "psnr-rgb", "ms-ssim", "lpips")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--limit", type=int, default=4)
    p.add_argument("--codecs", default="jpeg,webp,progic")
    p.add_argument("--bpps", default="0.15,0.4")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    args = p.parse_args(argv)

    import ray

    from gic.codecs.bench.command import main as bench

    runs, tables = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, args.workers):
            out = Path(tmp) / f"w{n}"
            ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False)
            t0 = time.perf_counter()
            status = bench(["--data", str(args.data), "--out", str(out), "--limit", str(args.limit),
                            "--codecs", args.codecs, "--bpps", args.bpps, "--metrics", "psnr,ms-ssim,lpips",
                            "--no-speed", "--no-plots", "--no-progress", "--ray"])
            runs[n] = time.perf_counter() - t0
            ray.shutdown()
            if status:
                return status
            with open(out / "per_image.csv", newline="") as f:
                tables[n] = [{k: r[k] for k in SAME} for r in csv.DictReader(f)]
            print(f"{n} worker(s): {runs[n]:.1f} s for {len(tables[n])} points", flush=True)
    first, last = tables[1], tables[args.workers]
    report = {
        "command": "python benchmarks/ray_speedup.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "points": len(first), "wall_s": {str(k): round(v, 2) for k, v in runs.items()},
        "speedup": round(runs[1] / runs[args.workers], 3),
        "records_identical": first == last,
        "load_average_after": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "cpus_on_machine": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
