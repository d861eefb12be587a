"""Compare ProGIC weight files (e.g. the shipped model against a fine-tuned export) on the same
images through the codec's own encode and progressive-decode path: bpp and LPIPS at every stage,
DISTS at a few stages (DISTS costs several seconds per image on a CPU). Used for the experiments in
the model card's limitations section.

    python benchmarks/compare_weights.py --data ../shared/datasets/kodak \
        resources/models/progic-small.pt runs/v2/v2.pt --out /tmp/compare.json

With `--anchor benchmarks/dists/per_image.csv` it also gives each file's LPIPS and DISTS BD-rate
against AVIF's points in that benchmark CSV (mean over the images per AVIF setting, as `gic bench`
aggregates), using DISTS at the `--dists-at` stages only.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np


def measure(weights: str, images: list[Path], dists_at: list[int]) -> dict:
    """Mean bpp and LPIPS per stage, mean DISTS at the stages in `dists_at`."""
    from PIL import Image

    from gic.codecs.metrics.dists import dists
    from gic.codecs.metrics.lpips import lpips
    from gic.codecs.progic.codec import ProGICCodec

    codec = ProGICCodec(weights=weights)
    s = codec.stages
    bpp, lp = np.zeros((len(images), s)), np.zeros((len(images), s))
    ds = np.zeros((len(images), len(dists_at)))
    for i, path in enumerate(images):
        x = np.asarray(Image.open(path).convert("RGB"))
        for k, preview in enumerate(codec.decode_progressive(codec.encode(x, quality=s))):
            bpp[i, k] = preview.bits / (x.shape[0] * x.shape[1])
            lp[i, k] = lpips(x, preview.image)
            if k + 1 in dists_at:
                ds[i, dists_at.index(k + 1)] = dists(x, preview.image)
        print(f"  {weights}: {path.name} done", file=sys.stderr, flush=True)
    return {"weights": weights, "images": len(images),
            "bpp": bpp.mean(0).round(4).tolist(), "lpips": lp.mean(0).round(4).tolist(),
            "dists": {str(k): round(float(v), 4) for k, v in zip(dists_at, ds.mean(0))}}


def anchor_curve(csv_path: str, codec: str, images: list[Path]) -> dict[str, list[float]]:
    """Mean bpp, LPIPS and DISTS per setting of `codec` in a `gic bench` per-image CSV, over the
    images being compared (so both curves describe the same pictures)."""
    names = {p.name for p in images}
    groups: dict[str, list[dict]] = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            if row["codec"] == codec and row["image"] in names:
                groups.setdefault(row["target"], []).append(row)
    if not groups:
        raise SystemExit(f"error: no {codec} rows for these images in {csv_path}")
    curve: dict[str, list[float]] = {"bpp": [], "lpips": [], "dists": []}
    for rows in groups.values():
        for k in curve:
            curve[k].append(float(np.mean([float(r[k]) for r in rows])))
    return curve


def bd_against(anchor: dict[str, list[float]], result: dict) -> dict[str, float]:
    """LPIPS and DISTS BD-rate (%) of one measured weight file against the anchor curve."""
    from gic.codecs.bench.bdrate import bd_rate

    bpp = result["bpp"]
    dists_at = [int(k) for k in result["dists"]]
    out = {"lpips": bd_rate(anchor["bpp"], anchor["lpips"], bpp, result["lpips"], higher_better=False)}
    if len(dists_at) >= 2:
        out["dists"] = bd_rate(anchor["bpp"], anchor["dists"], [bpp[k - 1] for k in dists_at],
                               list(result["dists"].values()), higher_better=False)
    return {k: round(v, 1) if not math.isnan(v) else v for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("weights", nargs="+", help="ProGIC weight files (.pt) to compare")
    p.add_argument("--data", required=True, help="folder of evaluation images (.png)")
    p.add_argument("--images", type=int, default=0, help="use only the first N images (0: all)")
    p.add_argument("--dists-at", default="1,2,4,8,12", help="stages at which to measure DISTS")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--out", help="write the results as JSON here too")
    p.add_argument("--anchor", metavar="CSV", help="per-image CSV of `gic bench` with the anchor codec's "
                   "points: adds LPIPS and DISTS BD-rates against it")
    p.add_argument("--anchor-codec", default="avif", help="codec name of the anchor rows (default avif)")
    args = p.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    images = sorted(Path(args.data).glob("*.png"))
    if args.images:
        images = images[: args.images]
    if not images:
        p.error(f"no .png images in {args.data}")
    dists_at = [int(k) for k in args.dists_at.split(",") if k]
    anchor = anchor_curve(args.anchor, args.anchor_codec, images) if args.anchor else None
    results = []
    for w in args.weights:
        results.append(measure(w, images, dists_at))
        if anchor is not None:
            results[-1][f"bd_rate_vs_{args.anchor_codec}"] = bd_against(anchor, results[-1])
        print(json.dumps(results[-1]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
