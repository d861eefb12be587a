"""Does spending the stages where they matter move DISTS? Encoder-side depth allocation, measured.

The .gic format already carries per-position depths: an ROI mask gives the blocks it touches
`quality` stages and the rest `background_quality`. Here the encoder picks that mask itself, per
image, from the per-block LPIPS gain of going from `lo` to `hi` stages (a rate-distortion choice
the encoder can make because it has the original), and, as a control, at random. Every point is a
real file from the codec (rates include the stored mask); quality is measured on its decode.
Used for the model card's limitations section.

    python benchmarks/adaptive_depth.py --data ../shared/datasets/kodak --images 0,8,16,20
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

BLOCK = 16  # image pixels per latent position, per axis (ProGIC's FACTOR)


def block_means(values: np.ndarray) -> np.ndarray:
    """Mean of an HxW map over each 16x16 block of the latent grid (edge blocks: their pixels only)."""
    h, w = values.shape
    lh, lw = -(-h // BLOCK), -(-w // BLOCK)
    total = np.zeros((lh * BLOCK, lw * BLOCK))
    count = np.zeros_like(total)
    total[:h, :w], count[:h, :w] = values, 1.0
    return (total.reshape(lh, BLOCK, lw, BLOCK).sum((1, 3))
            / count.reshape(lh, BLOCK, lw, BLOCK).sum((1, 3)))


def top_blocks_mask(score: np.ndarray, fraction: float, shape: tuple[int, int]) -> np.ndarray:
    """Pixel mask (HxW bool) of the `fraction` of latent blocks with the highest score."""
    n = int(round(fraction * score.size))
    chosen = np.zeros(score.size, dtype=bool)
    chosen[np.argsort(-score.ravel(), kind="stable")[:n]] = True
    grid = chosen.reshape(score.shape)
    return np.kron(grid, np.ones((BLOCK, BLOCK), dtype=bool))[: shape[0], : shape[1]].astype(bool)


def measure(codec, images: list[Path], pairs: list[tuple[int, int]], fractions: list[float],
            seed: int = 0) -> dict[str, dict[str, float]]:
    """Mean bpp, LPIPS and DISTS per configuration over the images."""
    from PIL import Image

    from gic.codecs.metrics.dists import dists
    from gic.codecs.metrics.lpips import lpips, lpips_map

    rows: dict[str, list[tuple[float, float, float]]] = {}
    rng = np.random.default_rng(seed)

    def add(key: str, x: np.ndarray, data: bytes) -> np.ndarray:
        y = codec.decode(data)
        rows.setdefault(key, []).append((8 * len(data) / (x.shape[0] * x.shape[1]), lpips(x, y), dists(x, y)))
        return y

    for path in images:
        x = np.asarray(Image.open(path).convert("RGB"))
        maps = {}
        for d in sorted({d for p in pairs for d in p}):
            maps[d] = block_means(lpips_map(x, add(f"uniform {d}", x, codec.encode(x, quality=d))))
        for lo, hi in pairs:
            gain = maps[lo] - maps[hi]
            for f in fractions:
                for how, score in (("lpips-gain", gain), ("random", rng.random(gain.shape))):
                    roi = top_blocks_mask(score, f, x.shape[:2])
                    add(f"{how} {lo}/{hi} at {f:g}", x,
                        codec.encode(x, quality=hi, roi=roi, background_quality=lo))
        print(f"  {path.name} done", file=sys.stderr, flush=True)
    return {k: dict(zip(("bpp", "lpips", "dists"), np.round(np.mean(v, 0), 4).tolist()))
            for k, v in rows.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder of evaluation images (.png)")
    p.add_argument("--images", default="", help="comma-separated indices into the sorted images (default: all)")
    p.add_argument("--pairs", default="2/4,3/6,4/8,6/12", help="lo/hi stage pairs")
    p.add_argument("--fractions", default="0.3,0.6", help="shares of blocks that get hi stages")
    p.add_argument("--weights", help="ProGIC weight file (default: the bundled model)")
    p.add_argument("--out", help="write the results as JSON here too")
    args = p.parse_args(argv)
    from gic.codecs.progic.codec import ProGICCodec

    images = sorted(Path(args.data).glob("*.png"))
    if args.images:
        images = [images[int(i)] for i in args.images.split(",")]
    if not images:
        p.error(f"no .png images in {args.data}")
    pairs = [tuple(int(v) for v in s.split("/")) for s in args.pairs.split(",")]
    codec = ProGICCodec(weights=args.weights)
    if any(not 1 <= lo < hi <= codec.stages for lo, hi in pairs):
        p.error(f"--pairs must be lo/hi with 1 <= lo < hi <= {codec.stages}")
    result = measure(codec, images, pairs, [float(f) for f in args.fractions.split(",")])
    for key, r in result.items():
        print(f"{key:24s} bpp {r['bpp']:.4f}  LPIPS {r['lpips']:.4f}  DISTS {r['dists']:.4f}")
    if args.out:
        Path(args.out).write_text(json.dumps({"images": [i.name for i in images], "results": result},
                                             indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
