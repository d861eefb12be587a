"""Where MCDH's PSNR stops: the transform's ceiling vs what quantisation costs, per rate level.

Decodes each image's latent twice per level: unquantised (y * gain * inv_gain, no rounding) and
rounded (what the codec codes, with the quantisation offsets of the context model ignored: plain
rounding), both through the torch synthesis. If the unquantised PSNR is barely above the rounded
one at the top level, the entropy model is not what limits the curve: the transform is.

    python research/mcdh/ceiling.py --data ../shared/datasets/kodak --out research/mcdh/ceiling.json
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from PIL import Image

from gic.codecs import registry
from gic.codecs.imageio import list_images


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b) ** 2)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    codec = registry.create("mcdh", runtime="torch")
    model = codec.loaded.model.eval()
    rows = []
    for f in list_images(args.data, args.limit):
        img = np.asarray(Image.open(f).convert("RGB")).copy()
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
        row = {"image": f.name}
        with torch.inference_mode():
            y = model.analyse(x)  # Kodak sizes are multiples of 16
            for level in range(model.cfg.levels):
                lv = torch.tensor([level])
                for name, q in (("unquantised", lambda t: t), ("rounded", torch.round)):
                    out = model.synthesise(q(y * model.gain(lv)) * model.inv_gain(lv)).clamp(0, 1)
                    o = (out[0].permute(1, 2, 0).numpy() * 255).round()
                    row[f"q{level + 1}_{name}"] = psnr(img, o)
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "image"}
    summary["images"] = len(rows)
    summary["model"] = codec.loaded.model_id
    with open(args.out, "w") as fh:
        json.dump({"summary": summary, "rows": rows}, fh, indent=1)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
