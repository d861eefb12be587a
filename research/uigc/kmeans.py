"""Small codebooks for UIGC's lowest rates: does a k-means-reduced stage-1 codebook help here?

The UIGC paper reduces its VQ codebook (16-256 entries) by k-means for the lowest rates. Here the
tokenizer is ProGIC's stage-1 VQ (256 entries at 1/16). For each K this script

1. clusters the 256 codewords into K centroids: Lloyd's k-means weighted by how often each codeword
   is used on training photos (k-means++ seeding, fixed seed, best of several restarts);
2. re-quantises every Kodak image's continuous encoder latent to the nearest centroid (the encoder
   and the decoder stay ProGIC's; only the codebook shrinks) and renders it through ProGIC's
   synthesis at depth 1;
3. measures the rate two ways, both ideal -log2 p (not coded bytes; the coder adds ~0.4 %, see the
   model card): `static` = each cluster's training-photo frequency (a fixed table), and `prior` =
   the shipped UIGC prior marginalised over each cluster's members (context tokens are each
   cluster's most-used member; the prior was trained on 256 codes, so this is what a small codebook
   gets *without* retraining the prior);
4. measures LPIPS and DISTS of the reconstruction.

K = 256 is the shipped tokenization (its `prior` rate is the prior's cross-entropy, 4.51 bits/token).

    python research/uigc/kmeans.py --train ../shared/datasets/train --data ../shared/datasets/kodak \
        --out research/uigc/kmeans.json

The package never imports this file (research/, see docs/architecture.md).
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from PIL import Image

from gic.codecs import metrics, registry
from gic.codecs.imageio import list_images
from gic.codecs.uigc.prior import TokenPrior
from gic.codecs.uigc.schedule import NUM_STEPS, step_map
from gic.codecs.uigc.train import masked_input


def latent(model, image: np.ndarray) -> tuple[torch.Tensor, int, int]:
    """Continuous encoder latent (N x D) of an image and its grid size."""
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    with torch.inference_mode():
        z = model.encoder(model.pad(x))
    _, d, h, w = z.shape
    return z.permute(0, 2, 3, 1).reshape(-1, d), h, w


def nearest(z: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    return ((centroids * centroids).sum(1)[None] - 2 * z @ centroids.t()).argmin(1)


def kmeans(points: np.ndarray, weights: np.ndarray, k: int, seed: int, restarts: int = 8,
           iters: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Lloyd k-means: (centroids K x D, assignment of each point), best of `restarts`."""
    best = None
    for r in range(restarts):
        rng = np.random.default_rng(seed + r)
        cent = [points[rng.choice(len(points), p=weights / weights.sum())]]
        for _ in range(1, k):  # k-means++ seeding, weighted
            d2 = np.min(((points[:, None] - np.array(cent)[None]) ** 2).sum(-1), axis=1)
            p = weights * d2
            cent.append(points[rng.choice(len(points), p=p / p.sum())])
        cent = np.array(cent)
        for _ in range(iters):
            assign = ((points[:, None] - cent[None]) ** 2).sum(-1).argmin(1)
            new = cent.copy()
            for c in range(k):
                m = assign == c
                if m.any():
                    new[c] = (weights[m, None] * points[m]).sum(0) / weights[m].sum()
                else:  # an empty cluster re-seeds at the worst-served point
                    new[c] = points[np.argmax(weights * ((points - cent[assign]) ** 2).sum(-1))]
            if np.allclose(new, cent):
                break
            cent = new
        assign = ((points[:, None] - cent[None]) ** 2).sum(-1).argmin(1)
        inertia = float((weights * ((points - cent[assign]) ** 2).sum(-1)).sum())
        if best is None or inertia < best[0]:
            best = (inertia, cent, assign)
    return best[1], best[2]


def prior_bits(prior: TokenPrior, context: np.ndarray, clusters: np.ndarray,
               members: torch.Tensor) -> float:
    """-log2 of the prior's probability of each position's cluster, summed over the schedule.

    `context` holds each position's cluster representative (a 256-code token), `clusters` the
    cluster index; `members` is a K x 256 0/1 matrix that sums the prior's code probabilities."""
    g = torch.from_numpy(context)[None]
    c = torch.from_numpy(clusters)
    steps = torch.from_numpy(step_map(*context.shape))[None]
    bits = 0.0
    with torch.inference_mode():
        for s in range(NUM_STEPS):
            tokens, target = masked_input(g, steps, s, prior.mask_token)
            p = torch.softmax(prior(tokens, torch.tensor([s])).double(), -1)[target]  # n x 256
            pc = p @ members.t().double()  # n x K
            bits -= float(torch.log2(pc[torch.arange(len(pc)), c[target[0]]]).sum())
    return bits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True, help="training photos (codeword usage for the weights)")
    ap.add_argument("--data", required=True, help="evaluation images (Kodak)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes", default="16,32,64,128,256")
    ap.add_argument("--train-images", type=int, default=200)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    progic = registry.create("progic", runtime="torch")
    uigc = registry.create("uigc")
    model = progic.loaded.model
    original = model.rvq.codebooks[0].clone()
    prior = TokenPrior(uigc.loaded.config).eval()
    prior.load_state_dict(uigc.loaded.torch_state())

    t0 = time.perf_counter()
    usage = np.zeros(len(original))
    for f in list_images(args.train, args.train_images):
        z, _, _ = latent(model, np.asarray(Image.open(f).convert("RGB")))
        usage += np.bincount(nearest(z, original).numpy(), minlength=len(original))
    print(f"usage from {args.train_images} training photos: {time.perf_counter() - t0:.0f} s, "
          f"{int((usage > 0).sum())} of {len(original)} codes used", flush=True)

    books = {}
    for k in [int(s) for s in args.sizes.split(",")]:
        if k >= len(original):
            cent, assign = original.numpy().astype(np.float64), np.arange(len(original))
        else:
            cent, assign = kmeans(original.numpy().astype(np.float64), usage + 1.0, k, args.seed)
        freq = np.bincount(assign, weights=usage, minlength=k) + 0.5  # static table, add-1/2
        members = torch.zeros(k, len(original))
        members[torch.from_numpy(assign), torch.arange(len(original))] = 1.0
        # representative: the most-used member (renders as the centroid through the patched book)
        rep = np.array([np.flatnonzero(assign == c)[np.argmax(usage[assign == c])] for c in range(k)])
        books[k] = dict(cent=torch.from_numpy(cent).float(), assign=assign, members=members, rep=rep,
                        static=-np.log2(freq / freq.sum()))

    rows = []
    for f in list_images(args.data, args.limit):
        img = np.asarray(Image.open(f).convert("RGB"))
        px = img.shape[0] * img.shape[1]
        z, h, w = latent(model, img)
        row = {"image": f.name, "tokens": h * w}
        for k, b in books.items():
            c = nearest(z, b["cent"]).numpy()
            grid = b["rep"][c].reshape(h, w)
            with torch.no_grad():  # render the centroids: every member code -> its centroid
                model.rvq.codebooks[0].copy_(b["cent"][torch.from_numpy(b["assign"])])
            try:
                out = progic.detokenize(grid[None], np.ones((h, w), dtype=np.int64), *img.shape[:2])
            finally:
                with torch.no_grad():
                    model.rvq.codebooks[0].copy_(original)
            row[f"k{k}_static_bpp"] = float(b["static"][c].sum()) / px
            row[f"k{k}_prior_bpp"] = prior_bits(prior, grid, c.reshape(h, w), b["members"]) / px
            row[f"k{k}_lpips"] = float(metrics.lpips(img, out))
            row[f"k{k}_dists"] = float(metrics.dists(img, out))
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {"images": len(rows), "train_images": args.train_images, "seed": args.seed}
    for k in books:
        for m in ("static_bpp", "prior_bpp", "lpips", "dists"):
            summary[f"k{k}_{m}"] = float(np.mean([r[f"k{k}_{m}"] for r in rows]))
        summary[f"k{k}_bits_per_token_prior"] = (
            sum(r[f"k{k}_prior_bpp"] * r["tokens"] * 256 for r in rows) / sum(r["tokens"] for r in rows))
        summary[f"k{k}_log2"] = math.log2(k)
    with open(args.out, "w") as fh:
        json.dump({"summary": summary, "rows": rows}, fh, indent=1)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
