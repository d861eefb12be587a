"""UIGC's ROI, measured: a centred rectangle (a quarter of the area) carries `q` of the tokenizer's
stages and is never dropped; outside, the background quality sets the dropping. Bits per pixel
inside and outside (`roi_bits`) and LPIPS-map means inside and outside, averaged over images, for
each ROI quality, next to the same images without a ROI.

    python benchmarks/uigc_roi.py --data ../shared/datasets/kodak --out benchmarks/uigc_roi.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def measure(codec, images: list[np.ndarray], roi_qualities: list[int], background: int) -> list[dict]:
    from gic.codecs.metrics import lpips_map

    rows = []
    for q in [None, *roi_qualities]:
        per = []
        for img in images:
            h, w = img.shape[:2]
            mask = np.zeros((h, w), bool)
            mask[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = True
            if q is None:
                data = codec.encode(img, background)
                inside = outside = None
            else:
                data = codec.encode(img, q, roi=mask, background_quality=background)
                inside, outside = codec.roi_bits(data)
            m = lpips_map(img, codec.decode(data))
            r = {"bpp_total": 8 * len(data) / (h * w), "lpips_inside": float(m[mask].mean()),
                 "lpips_outside": float(m[~mask].mean())}
            if inside is not None:
                r |= {"bpp_inside": inside / mask.sum(), "bpp_outside": outside / (~mask).sum()}
            per.append(r)
        avg = {k: round(float(np.mean([r[k] for r in per])), 4) for k in per[0]}
        rows.append({"roi_quality": q, "background_quality": background, "images": len(per), **avg})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    from gic.codecs import registry
    from gic.codecs.imageio import load_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="folder of PNG images (e.g. Kodak)")
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (0: all)")
    ap.add_argument("--roi-qualities", default="1,3,5")
    ap.add_argument("--background", default="5,3", help="background qualities, one run each")
    args = ap.parse_args()
    files = sorted(Path(args.data).glob("*.png"))
    files = files[:args.limit] if args.limit else files
    images = [load_image(f) for f in files]
    codec = registry.create("uigc")
    qs = [int(x) for x in args.roi_qualities.split(",")]
    rows = []
    for bg in (int(x) for x in args.background.split(",")):
        rows += measure(codec, images, qs, bg)
    out = {"codec": "uigc", "model": codec.model_id, "tokenizer": codec.tokenizer.model_id,
           "mask": "centred rectangle, 1/4 of the area", "rows": rows}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
