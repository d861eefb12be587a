"""What each quality metric costs per benchmark point, with and without the reference-feature cache.

A `gic bench` point compares one decoded image with its original. This times, on one image (a
768x512 Kodak frame by default), every metric of `gic.codecs.metrics` the way the benchmark calls
it: PSNR, MS-SSIM, then LPIPS and DISTS uncached (`cache=False`: both images through the network)
and cached (the reference's features kept from an earlier point: only the decoded image's pass).
Medians of `--repeat` runs, after one warm-up call that loads the networks. The distorted image
is a JPEG at quality 30 of the original, as a real point would be.

    python benchmarks/metric_cost.py --image /work/shared/datasets/kodak/kodim01.png --threads 1 \
        --repeat 3 --out benchmarks/metric_cost.json
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", type=Path, required=True)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    args = p.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import torch
    from PIL import Image

    from gic.codecs import imageio
    from gic.codecs.metrics import dists, lpips, ms_ssim, psnr, refcache, weights

    torch.set_num_threads(args.threads)
    ref = imageio.load_image(args.image)
    buf = io.BytesIO()
    Image.fromarray(ref).save(buf, "JPEG", quality=30)
    dist = np.asarray(Image.open(buf).convert("RGB"))
    dev = args.device

    def cached(fn):
        def run():
            fn(ref, dist, dev)  # fills the cache if it is empty (untimed below: only the 2nd call)
            t0 = time.perf_counter()
            fn(ref, dist, dev)
            return time.perf_counter() - t0
        return run

    def plain(fn, **kw):
        def run():
            t0 = time.perf_counter()
            fn(ref, dist, **kw)
            return time.perf_counter() - t0
        return run

    cases = {"psnr": plain(psnr), "ms-ssim": plain(ms_ssim),
             "lpips": plain(lpips.lpips, device=dev, cache=False), "lpips-cached": cached(lpips.lpips)}
    if weights.dists_path().is_file():
        cases.update({"dists": plain(dists.dists, device=dev, cache=False), "dists-cached": cached(dists.dists)})
    else:
        print(f"DISTS skipped: weights not converted ({weights.DISTS_SETUP_COMMAND})", file=sys.stderr)
    for fn in cases.values():  # warm-up: networks loaded, first-call allocations done
        fn()
    results = {}
    for name, fn in cases.items():
        times = [fn() for _ in range(args.repeat)]
        results[name] = statistics.median(times)
        print(f"{name:<13} {results[name]:8.3f} s  (median of {args.repeat})", flush=True)
    psnr_s = results["psnr"]
    report = {
        "command": "python benchmarks/metric_cost.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "image": args.image.name, "size": f"{ref.shape[1]}x{ref.shape[0]}", "threads": args.threads,
        "device": dev, "repeat": args.repeat, "torch": torch.__version__, "machine": platform.machine(),
        "seconds": results,
        "relative_to_psnr": {k: v / psnr_s for k, v in results.items()},
        "cached_over_uncached": {m: results[f"{m}-cached"] / results[m] for m in ("lpips", "dists")
                                 if m in results},
        "cache_mb_per_image": {key[0][0]: round(size / 2**20, 1)
                               for key, (_, size) in refcache.CACHE._items.items()},
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["cached_over_uncached"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
