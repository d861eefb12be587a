"""MCDH ablations for the model card: the shipped design against three variants, each trained from
scratch with the same budget, data, seed and λ range, then evaluated on Kodak.

    python research/mcdh/ablate.py --data /work/shared/datasets/train \
        --eval /work/shared/datasets/kodak --out /work/runs/mcdh_ablate --steps 1500 \
        --json research/mcdh/ablate.json

Variants (each removes one idea of the paper, everything else identical):
- `full`: the shipped architecture (dual hyperprior, local + global context, transformer blocks);
- `single-hyper`: the spatial hyperprior only (no channel-aware hyper-latent, its bits and features);
- `local-ctx`: checkerboard local context only (no global context over decoded anchors);
- `conv`: each transformer block replaced by a residual block of two 3x3 convolutions with about the
  same parameter count (no attention: a 5x5-latent receptive field instead of the whole image).

Rate is the model's own estimate (the trained likelihoods of rounded latents, no entropy coder) and
PSNR is of the rounded-latent reconstruction, at every rate level, on `--eval-images` Kodak images;
`bd_rate_vs_full` compares each variant's curve with `full`'s; `_crop128` the same on the images'
central 128 x 128 crops, the training crop size. This is a small-budget study (CPU):
it ranks ideas at equal compute, it does not measure the shipped model.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gic.codecs.bench.bdrate import bd_rate
from gic.codecs.imageio import list_images
from gic.codecs.mcdh import model as M
from gic.codecs.mcdh.train import MCDHTrainConfig, MCDHTrainer

VARIANTS = ("full", "single-hyper", "local-ctx", "conv")


class ConvBlock(nn.Module):
    """The transformer block's stand-in: x + conv(act(conv(x))) through a half-width bottleneck, so
    its parameter count is close to the block's (83 k vs 74 k at 96 channels)."""

    def __init__(self, dim: int):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(dim, dim // 2, 3, padding=1), nn.Conv2d(dim // 2, dim, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.c2(F.leaky_relu(self.c1(x), 0.1))


def build(variant: str, cfg: M.MCDHConfig) -> M.MCDH:
    net = M.MCDH(cfg)
    ent = net.entropy
    if variant == "single-hyper":
        for p in (*ent.hyper_c1.parameters(), *ent.hyper_c2.parameters(), *net.prior_c.parameters()):
            p.requires_grad_(False)
        ent.hyper = lambda zs, zc, h, w: ent.hyper_s(zs)[:, :, :h, :w]  # type: ignore[method-assign]
        prior_c_bits = net.prior_c.bits
        net.prior_c.bits = lambda z: prior_c_bits(z) * 0  # type: ignore[method-assign]
    elif variant == "local-ctx":
        def local_only(anchors, mask):
            return F.conv2d(anchors, ent.ctx.weight * ent.ctx_mask, ent.ctx.bias, padding=2)
        ent.context = local_only  # type: ignore[method-assign]
        for p in ent.glob.parameters():
            p.requires_grad_(False)
    elif variant == "conv":
        net.g_a[-1] = ConvBlock(cfg.m)
        net.g_s[0] = ConvBlock(cfg.m)
    elif variant != "full":
        raise ValueError(variant)
    return net


class AblationTrainer(MCDHTrainer):
    variant = "full"

    def setup(self) -> None:
        super().setup()
        self.model = build(self.variant, self.model.cfg).to(self.device)
        self.opt = torch.optim.Adam([p for p in self.model.parameters() if p.requires_grad], lr=self.cfg.lr)


@torch.no_grad()
def evaluate(net: M.MCDH, files: list[Path], crop: int = 0) -> list[dict]:
    """Estimated bpp (rounded latents under the model's priors) and PSNR per rate level, on whole
    images or on their central crop x crop pixels."""
    net.eval()
    rows = []
    imgs = []
    for f in files:
        with Image.open(f) as im:
            a = np.asarray(im.convert("RGB"))
        if crop:
            h, w = a.shape[:2]
            a = a[(h - crop) // 2:(h + crop) // 2, (w - crop) // 2:(w + crop) // 2]
        imgs.append(torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float().div(255))
    for lv in range(net.cfg.levels):
        bpp, psnr = [], []
        for x in imgs:
            h, w = x.shape[-2:]
            xp = F.pad(x, (0, -w % 64, 0, -h % 64), mode="replicate")
            level = torch.tensor([lv])
            y = net.analyse(xp) * net.gain(level)
            zs, zc = net.hyper_analyse(y)
            zs, zc = torch.round(zs), torch.round(zc)
            bits = net.prior_s.bits(zs) + net.prior_c.bits(zc)
            hh, ww = y.shape[-2:]
            ent = net.entropy
            feat = ent.hyper(zs, zc, hh, ww)
            a = M.checkerboard(hh, ww)
            mu0, ls0 = ent.params(feat, 0)
            y_a = (torch.round(y - mu0) + mu0) * a
            mu1, ls1 = ent.params(feat + ent.context(y_a, a), 1)
            mu = torch.where(a > 0, mu0, mu1)
            scale = torch.where(a > 0, ls0, ls1).exp().clamp(M.SCALE_MIN, 64.0)
            r = torch.round(y - mu)
            bits = bits + M.gaussian_bits(r, scale)
            xh = net.synthesise((r + mu) * net.inv_gain(level))[..., :h, :w].clamp(0, 1)
            bpp.append(float(bits[0]) / (h * w))
            psnr.append(float(-10 * torch.log10(((xh - x) ** 2).mean())))
        rows.append({"level": lv + 1, "bpp": round(float(np.mean(bpp)), 4), "psnr": round(float(np.mean(psnr)), 3)})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--out", required=True, help="run folder (one sub-folder per variant; resumable)")
    ap.add_argument("--json", required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--eval-images", type=int, default=6)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    files = list_images(args.eval)[: args.eval_images]
    out_path = Path(args.json)
    result = json.loads(out_path.read_text()) if out_path.exists() else {"variants": {}}
    result.update({"steps": args.steps, "batch": args.batch, "crop": 128, "eval_images": [f.name for f in files],
                   "command": "python research/mcdh/ablate.py " + " ".join(argv or __import__("sys").argv[1:])})
    for v in args.variants.split(","):
        AblationTrainer.variant = v
        cfg = MCDHTrainConfig(data=args.data, out=str(Path(args.out) / v), steps=args.steps, batch=args.batch,
                              crop=128, threads=args.threads, checkpoint_every=250, log_every=100, seed=0)
        t0 = time.time()
        trainer = AblationTrainer(cfg, log=print)
        trainer.run(progress=False)
        params = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        result["variants"][v] = {"params": params, "train_s": round(time.time() - t0, 1),
                                 "rd": evaluate(trainer.model, files),
                                 "rd_crop128": evaluate(trainer.model, files, 128)}
        out_path.write_text(json.dumps(result, indent=1) + "\n")
    base = result["variants"].get("full")
    if base:
        for v, r in result["variants"].items():
            for key, label in (("rd", "bd_rate_vs_full"), ("rd_crop128", "bd_rate_vs_full_crop128")):
                a, t = base[key], r[key]
                try:
                    r[label] = round(bd_rate([p["bpp"] for p in a], [p["psnr"] for p in a],
                                             [p["bpp"] for p in t], [p["psnr"] for p in t]), 2)
                except Exception as exc:  # noqa: BLE001 - no overlap of the curves: say so
                    r[label] = f"n/a ({exc})"
    out_path.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
