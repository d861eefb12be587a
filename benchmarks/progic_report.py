"""ProGIC-specific measurements that `gic bench` does not make: rate per index against log2(K)
per stage, entropy-coder overhead against the model's cross-entropy, codebook usage, first-preview
latency, and memory on a 768x512 and a 4000x3000 image. Timings are medians and are reported as
ratios against AVIF measured in the same run.

    python benchmarks/progic_report.py --data ../shared/datasets/kodak --out benchmarks/results/progic_report.json
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def rates(codec, images: list[np.ndarray]) -> dict:
    from gic.codecs import container
    from gic.codecs.progic.entropy import symbol_costs

    s_total = codec.stages
    bits = np.zeros(s_total)
    ideal = np.zeros(s_total)
    count = 0
    used = [set() for _ in range(s_total)]
    header = []
    for img in images:
        data = codec.encode(img, quality=s_total)
        f, depth = codec._open(data)
        idx = np.zeros((s_total,) + depth.shape, dtype=np.int64)
        header.append(f.layer_offsets[0] - len(f.layers[0]))
        for k in range(1, s_total + 1):
            codec._decode_layer(f, depth, idx, k)
            bits[k - 1] += 8 * (len(f.layers[k - 1]) - 4)  # minus the 4-byte check value
            ideal[k - 1] += symbol_costs(idx[k - 1], depth >= k, *codec._models(k)).sum()
            used[k - 1].update(np.unique(idx[k - 1]).tolist())
        count += depth.size
    k = codec.loaded.model.cfg.codes
    return {
        "log2_K": math.log2(k),
        "bits_per_index": (bits / count).round(4).tolist(),
        "cross_entropy_per_index": (ideal / count).round(4).tolist(),
        "coder_overhead_percent": float(round(100 * (bits.sum() / ideal.sum() - 1), 3)),
        # every position carries every stage here (no ROI), so each stage has `count` indices
        "saving_vs_log2K_percent_per_stage": (100 * (1 - bits / (count * math.log2(k)))).round(2).tolist(),
        "saving_vs_log2K_percent": float(round(100 * (1 - bits.sum() / (count * s_total * math.log2(k))), 2)),
        "codes_used_on_these_images": [len(u) for u in used],
        "header_bytes_median": float(statistics.median(header)),
    }


def speed(codec, avif, img: np.ndarray, repeat: int, quality: int) -> dict:
    data = codec.encode(img, quality=quality)
    a_data, a_q = avif.encode_to_bpp(img, len(data) * 8 / (img.shape[0] * img.shape[1]))
    first = lambda: next(iter(codec.decode_progressive(data)))  # noqa: E731
    out = {
        "progic_quality": quality,
        "progic_bpp": len(data) * 8 / (img.shape[0] * img.shape[1]),
        "avif_quality": a_q,
        "avif_bpp": len(a_data) * 8 / (img.shape[0] * img.shape[1]),
        "progic_encode_s": _median_time(lambda: codec.encode(img, quality=quality), repeat),
        "progic_decode_s": _median_time(lambda: codec.decode(data), repeat),
        "progic_first_preview_s": _median_time(first, repeat),
        "avif_encode_s": _median_time(lambda: avif.encode(img, quality=a_q), repeat),
        "avif_decode_s": _median_time(lambda: avif.decode(a_data), repeat),
    }
    out["encode_ratio_vs_avif"] = out["progic_encode_s"] / out["avif_encode_s"]
    out["decode_ratio_vs_avif"] = out["progic_decode_s"] / out["avif_decode_s"]
    out["first_preview_ratio_vs_avif_decode"] = out["progic_first_preview_s"] / out["avif_decode_s"]
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def roi(codec, images: list[np.ndarray], background_quality: int) -> dict:
    """A centred rectangle (a quarter of the area) as ROI at full depth, the rest at
    `background_quality` stages: bits per pixel and mean LPIPS-map inside vs outside, averaged
    over images, next to the same images coded at full depth without ROI."""
    from gic.codecs.metrics import lpips_map

    rows = []
    for img in images:
        h, w = img.shape[:2]
        mask = np.zeros((h, w), bool)
        mask[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = True
        data = codec.encode(img, quality=codec.stages, roi=mask, background_quality=background_quality)
        inside_bits, outside_bits = codec.roi_bits(data)
        m = lpips_map(img, codec.decode(data))
        full = codec.encode(img, quality=codec.stages)
        rows.append({
            "bpp_inside": inside_bits / mask.sum(), "bpp_outside": outside_bits / (~mask).sum(),
            "bpp_total": len(data) * 8 / (h * w), "bpp_no_roi": len(full) * 8 / (h * w),
            "lpips_inside": float(m[mask].mean()), "lpips_outside": float(m[~mask].mean()),
        })
    avg = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}
    return {"mask": "centred rectangle, 1/4 of the area", "roi_quality": codec.stages,
            "background_quality": background_quality, "images": len(rows), **avg}


_MEMORY_CHILD = """
import sys, resource, numpy as np, torch
from PIL import Image
torch.set_num_threads(int(sys.argv[3]))
from gic.codecs import registry
from gic.resources import path
h, w = int(sys.argv[1]), int(sys.argv[2])
# the bundled photo scaled to the size (uint8 all the way: the baseline is the codec's, not ours)
img = np.asarray(Image.open(path("samples", "kodim23.png")).convert("RGB").resize((w, h), Image.BICUBIC))
c = registry.create("progic")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
data = c.encode(img, quality=c.stages)
out = c.decode(data)
assert out.shape == img.shape
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(data))
"""


def memory(h: int, w: int, threads: int) -> dict:
    """Peak RSS of encode + decode in a fresh process (MB), with the model-loading baseline."""
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(h), str(w), str(threads)],
                         capture_output=True, text=True, timeout=3600)
    if res.returncode:
        return {"size": f"{w}x{h}", "error": res.stderr.strip().splitlines()[-1]}
    base, peak, nbytes = (int(v) for v in res.stdout.split())
    return {"size": f"{w}x{h}", "peak_rss_mib": round(peak / 1024), "after_image_and_model_load_mib": round(base / 1024),
            "bytes": nbytes, "wall_s": round(time.perf_counter() - t, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--limit", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-quality", type=int, default=0, help="stages for the speed test (0: all)")
    ap.add_argument("--roi-images", type=int, default=6, help="images for the ROI measurement")
    ap.add_argument("--no-big", action="store_true", help="skip the 4000x3000 memory run")
    args = ap.parse_args()

    import torch

    from gic.codecs import registry
    from gic.codecs.imageio import load_image

    torch.set_num_threads(args.threads)
    files = sorted(p for p in args.data.iterdir() if p.suffix.lower() == ".png")[: args.limit]
    images = [load_image(p) for p in files]
    codec = registry.create("progic")
    avif = registry.create("avif")
    report = {
        "model_id": codec.model_id,
        "weights_hash": codec.loaded.model_hash.hex(),
        "images": len(images),
        "threads": args.threads,
        "rates": rates(codec, images),
        "speed_768x512": speed(codec, avif, next(i for i in images if i.shape[:2] == (512, 768)),
                               args.repeat, args.speed_quality or codec.stages),
        "roi": roi(codec, images[:args.roi_images], background_quality=2),
        "memory": [memory(512, 768, args.threads)] + ([] if args.no_big else [memory(3000, 4000, args.threads)]),
        "python_maxrss_mb_this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
