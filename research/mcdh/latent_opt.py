"""Encoder-side latent refinement for MCDH, measured with real files: how much rate or PSNR does
optimising the gain-scaled latent per image (Campos et al. 2019, "Content adaptive optimization for
neural image compression"; Yang et al. 2020, SGA) buy the shipped model?

For each image and rate level: the analysis gives yg; `--steps` Adam steps on yg minimise the
training loss (λ · 255² · MSE + estimated bits, straight-through rounding, the model frozen); the
hyper-latents follow from the refined yg as in a normal encode. The codec then writes real bytes
from it (its integer coding path, unchanged) and decodes them: the decoder needs nothing new.

    python research/mcdh/latent_opt.py --data ../shared/datasets/kodak --limit 6 --levels 1,4,8 \
        --steps 60 --out research/mcdh/latent_opt.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def training_loss(model, yg: torch.Tensor, x: torch.Tensor, level: torch.Tensor, lam: float):
    """The trainer's loss from a given gain-scaled latent (MCDH.forward after the analysis)."""
    from gic.codecs.mcdh.model import SCALE_MIN, _ste_round, checkerboard, gaussian_bits

    zs, zc = model.hyper_analyse(yg)
    bits_z = model.prior_s.bits(zs + torch.rand_like(zs) - 0.5) + model.prior_c.bits(zc + torch.rand_like(zc) - 0.5)
    h, w = yg.shape[-2:]
    ent = model.entropy
    feat = ent.hyper(_ste_round(zs), _ste_round(zc), h, w)
    a = checkerboard(h, w, x.device)
    mu0, ls0 = ent.params(feat, 0)
    y_a = (_ste_round(yg - mu0) + mu0) * a
    mu1, ls1 = ent.params(feat + ent.context(y_a, a), 1)
    mu = torch.where(a > 0, mu0, mu1)
    scale = torch.where(a > 0, ls0, ls1).exp().clamp(SCALE_MIN, 64.0)
    y_hat = _ste_round(yg - mu) + mu
    bits = gaussian_bits(yg + torch.rand_like(yg) - 0.5 - mu, scale) + bits_z  # the training proxy
    x_hat = model.synthesise(y_hat * model.inv_gain(level))[..., :x.shape[-2], :x.shape[-1]]
    mse = F.mse_loss(x_hat, x)
    px = x.shape[-2] * x.shape[-1]
    return lam * 255 ** 2 * mse + bits.sum() / px, mse, bits.sum() / px


def refine(codec, image: np.ndarray, quality: int, steps: int, lr: float):
    """(yg, zs, zc) as `codec.latents` returns them, after `steps` of refinement."""
    from gic.codecs.mcdh.train import lambdas

    model = codec.loaded.model
    for p in model.parameters():
        p.requires_grad_(False)
    yg0, _, _ = codec.latents(image, quality)
    x = codec.to_tensor(image)
    xp = F.pad(x, (0, -x.shape[-1] % 16, 0, -x.shape[-2] % 16), mode="replicate")
    level = torch.tensor([quality - 1])
    lam = float(lambdas(model.cfg.levels)[quality - 1])
    yg = torch.from_numpy(yg0)[None].clone().requires_grad_(True)
    opt = torch.optim.Adam([yg], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss, _, _ = training_loss(model, yg, x, level, lam)
        loss.backward()
        opt.step()
    del xp
    r = model.cfg.z_support
    with torch.no_grad():
        zs, zc = model.hyper_analyse(yg)
    z = [codec._round_z(t[0].double().numpy(), r) for t in (zs, zc)]
    return yg[0].detach().float().numpy(), z[0], z[1]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255 ** 2 / mse))


def main() -> None:
    from gic.codecs import registry
    from gic.codecs.imageio import load_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--levels", default="1,4,8")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    codec = registry.create("mcdh", runtime="torch")
    files = sorted(Path(args.data).glob("*.png"))[:args.limit]
    rows = []
    for f in files:
        img = load_image(f)
        px = img.shape[0] * img.shape[1]
        for q in (int(v) for v in args.levels.split(",")):
            base = codec.encode(img, q)
            t = time.perf_counter()
            refined = refine(codec, img, q, args.steps, args.lr)
            secs = time.perf_counter() - t
            plain_latents = codec.latents
            codec.latents = lambda image, quality, progress=None: refined
            try:
                data = codec.encode(img, q)
            finally:
                codec.latents = plain_latents
            row = {"image": f.name, "quality": q, "steps": args.steps, "refine_s": round(secs, 2),
                   "bpp": 8 * len(base) / px, "psnr": psnr(img, codec.decode(base)),
                   "bpp_refined": 8 * len(data) / px, "psnr_refined": psnr(img, codec.decode(data))}
            rows.append(row)
            print(json.dumps(row), flush=True)
    mean = {}
    for q in sorted({r["quality"] for r in rows}):
        sel = [r for r in rows if r["quality"] == q]
        mean[q] = {k: round(float(np.mean([r[k] for r in sel])), 4)
                   for k in ("bpp", "psnr", "bpp_refined", "psnr_refined", "refine_s")}
        print(q, mean[q])
    Path(args.out).write_text(json.dumps({"model": codec.model_id, "lr": args.lr, "mean": mean,
                                          "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
