"""Peak RSS and time of `gic encode` and `gic decode` on a large photo, per learned codec.

Why: issue 24 asks for memory bounded independently of the image size; this measures what a user
running the CLI gets (a fresh process each, `/usr/bin/time -v`), on an image built by tiling the
Kodak photos (no 8000x6000 photo ships with the datasets).

    python benchmarks/big_memory.py /work/shared/datasets/kodak --size 8000x6000 --threads 1
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def tiled_photo(kodak: Path, width: int, height: int) -> np.ndarray:
    """A width x height RGB image made of the landscape Kodak photos, row by row."""
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(kodak.glob("*.png"))]
    photos = [p for p in photos if p.shape[1] > p.shape[0]]
    if not photos:
        sys.exit(f"big_memory: no landscape PNG photos in {kodak}")
    th, tw = photos[0].shape[:2]
    out = np.empty((height, width, 3), np.uint8)
    k = 0
    for y in range(0, height, th):
        for x in range(0, width, tw):
            tile = photos[k % len(photos)]
            k += 1
            out[y: y + th, x: x + tw] = tile[: min(th, height - y), : min(tw, width - x)]
    return out


def timed(cmd: list[str], env: dict[str, str]) -> dict:
    """Run `cmd` under /usr/bin/time -v: peak RSS (MiB) and wall seconds."""
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"big_memory: {' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", r.stderr).group(1)
    secs = sum(float(v) * 60 ** i for i, v in enumerate(reversed(wall.split(":"))))
    return {"peak_rss_mib": round(rss / 1024), "wall_s": round(secs, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kodak", type=Path, help="folder of Kodak PNGs")
    ap.add_argument("--size", default="8000x6000", help="WxH (default 8000x6000)")
    ap.add_argument("--codecs", default="progic,uigc,mcdh")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, help="append the results (JSON lines) here")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    gic = str(Path(sys.executable).with_name("gic"))
    here = Path(__file__).resolve().parent
    commit = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or None  # which code the row measured
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.png"
        Image.fromarray(tiled_photo(args.kodak, width, height)).save(src, compress_level=1)
        for name in args.codecs.split(","):
            packed, back = Path(tmp) / f"big.{name}.gic", Path(tmp) / f"big.{name}.png"
            row = {"codec": name, "size": f"{width}x{height}", "threads": args.threads,
                   "encode": timed([gic, "encode", "--codec", name, str(src), str(packed)], env),
                   "decode": timed([gic, "decode", str(packed), str(back)], env),
                   "bytes": packed.stat().st_size, "date": time.strftime("%Y-%m-%d"), "commit": commit}
            print(json.dumps(row), flush=True)
            if args.out:
                with args.out.open("a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
