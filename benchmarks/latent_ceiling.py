"""Where a ProGIC model's quality stops: the decoder fed the encoder's *unquantised* latent (no
RVQ at all) against the decodes at a few stage counts, and the share of the latent's energy each
RVQ stage leaves. If the late stages already match the unquantised decode, more stages (bits)
cannot help; only a better transform (encoder, latent, decoder) can. Used for the model card's
limitations section.

    python benchmarks/latent_ceiling.py --data ../shared/datasets/kodak resources/models/progic-small.pt
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def residual_energy(rvq, flat) -> list[float]:
    """Mean squared residual after 0, 1, ..., S stages, as a share of the latent's own energy."""
    idx = rvq.encode(flat)
    q = rvq.lookup(idx)
    residual, total = flat.clone(), float(flat.pow(2).mean())
    out = [1.0]
    for s in range(q.shape[0]):
        residual = residual - q[s]
        out.append(float(residual.pow(2).mean()) / total)
    return out


def measure(weights: str, images: list[Path], stages: list[int]) -> dict:
    """Mean PSNR and LPIPS of the unquantised decode and of the decodes at `stages`, and the mean
    residual energy share per stage, over the images."""
    import torch
    from PIL import Image

    from gic.codecs.metrics.lpips import lpips
    from gic.codecs.progic.weights import load_model

    loaded = load_model(weights)
    model = loaded.model
    s_max = model.cfg.stages
    if any(not 1 <= s <= s_max for s in stages):
        raise SystemExit(f"error: {weights} has {s_max} stages; --stages must lie in 1..{s_max}")
    keys = ["unquantised"] + [str(s) for s in stages]
    psnr = {k: [] for k in keys}
    lp = {k: [] for k in keys}
    energy = []

    def score(key: str, x: np.ndarray, y: torch.Tensor) -> None:
        img = (y[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        img = img[: x.shape[0], : x.shape[1]]
        mse = np.mean((img.astype(np.float64) - x) ** 2)
        psnr[key].append(10 * np.log10(255 ** 2 / max(mse, 1e-10)))
        lp[key].append(lpips(x, img))

    with torch.no_grad():
        for path in images:
            x = np.asarray(Image.open(path).convert("RGB"))
            t = model.pad(torch.from_numpy(x.copy()).permute(2, 0, 1)[None].float() / 255)
            z = model.encoder(t)
            b, _, h, w = z.shape
            score("unquantised", x, model.decoder(z, torch.full((b, h, w), s_max)))
            flat = model._flat(z)
            idx = model.rvq.encode(flat).view(s_max, b, h, w)
            for s in stages:
                score(str(s), x, model.synthesise(idx, torch.full((b, h, w), s)))
            energy.append(residual_energy(model.rvq, flat))
            print(f"  {weights}: {path.name} done", file=sys.stderr, flush=True)
    return {"weights": weights, "model_id": loaded.model_id, "images": len(images),
            "psnr": {k: round(float(np.mean(v)), 3) for k, v in psnr.items()},
            "lpips": {k: round(float(np.mean(v)), 4) for k, v in lp.items()},
            "residual_energy_share": [round(float(v), 5) for v in np.mean(energy, 0)]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("weights", nargs="+", help="ProGIC weight files (.pt)")
    p.add_argument("--data", required=True, help="folder of evaluation images (.png)")
    p.add_argument("--images", type=int, default=0, help="use only the first N images (0: all)")
    p.add_argument("--stages", default="1,4,8,12", help="stage counts to decode")
    p.add_argument("--out", help="write the results as JSON here too")
    args = p.parse_args(argv)
    images = sorted(Path(args.data).glob("*.png"))[: args.images or None]
    if not images:
        p.error(f"no .png images in {args.data}")
    stages = [int(s) for s in args.stages.split(",") if s]
    results = []
    for w in args.weights:
        results.append(measure(w, images, stages))
        print(json.dumps(results[-1]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
