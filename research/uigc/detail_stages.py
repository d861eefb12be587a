"""Would a second tokenizer stage at chosen positions buy UIGC more quality per bit below 0.03 bpp?

For each image: the quality-5 UIGC file (every stage-1 token, coded by the prior), then ProGIC's
stage-2 tokens at a fraction p of the positions, coded by the tokenizer's own tables
(`Tokenizer.encode_stage`), rendered at depth 2 there. Which positions:
- `surprisal`: the stage-1 tokens the prior coded at the highest cost (the decoder knows these costs
  exactly, so the selection costs no bits);
- `edge`: the strongest edges of the image (encoder-only: the mask must be sent; its cost is
  counted as p's binary entropy per token, what an ideal coder of an i.i.d. mask would spend);
- `random`: a seeded uniform choice (the control; counted free).
Rates are file bytes (+ stage-2 bytes + mask bits) per pixel; LPIPS and DISTS on the whole image.

    python research/uigc/detail_stages.py --data ../shared/datasets/kodak --out research/uigc/detail_stages.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def binary_entropy(p: float) -> float:
    return 0.0 if p <= 0 or p >= 1 else float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)))


def main() -> None:
    from gic.codecs import metrics, registry
    from gic.codecs.imageio import load_image
    from gic.codecs.uigc.codec import edge_strength

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--fractions", default="0.1,0.2,0.35,0.5,1.0")
    ap.add_argument("--dists", action="store_true", help="also DISTS (~5 s a point on CPU)")
    args = ap.parse_args()
    files = sorted(Path(args.data).glob("*.png"))
    files = files[:args.limit] if args.limit else files
    fractions = [float(x) for x in args.fractions.split(",")]
    codec = registry.create("uigc")
    tok = codec.tokenizer
    rows = []
    for i, f in enumerate(files):
        img = load_image(f)
        px = img.shape[0] * img.shape[1]
        tokens = tok.tokenize(img)
        data = codec.encode(img, 5)
        *_, (gf, last) = codec.decoded_grids(data)
        h, w = last.tokens.shape
        strength = edge_strength(img, codec.factor, h, w)
        rng = np.random.default_rng(i)
        scores = {"surprisal": np.where(last.sent, last.cost, -1.0), "edge": strength,
                  "random": rng.random((h, w))}
        stack = np.stack([last.tokens, tokens[1]])

        def point(sel: np.ndarray, extra_bits: float) -> dict:
            bits = 8 * len(data) + extra_bits
            if sel.any():
                bits += 8 * len(tok.encode_stage(tokens[1], sel, 2))
            out = tok.detokenize(stack, np.where(sel, 2, 1), img.shape[0], img.shape[1])
            r = {"bpp": bits / px, "lpips": metrics.lpips(img, out)}
            if args.dists:
                r["dists"] = metrics.dists(img, out)
            return r

        base = point(np.zeros((h, w), bool), 0.0)
        rows.append({"image": f.name, "rule": "none", "fraction": 0.0, **base})
        for rule, score in scores.items():
            order = np.argsort(-score.ravel(), kind="stable")
            for p in fractions:
                if p >= 1.0 and rule != "surprisal":
                    continue  # every position: the same point for every rule
                sel = np.zeros(h * w, bool)
                sel[order[:int(round(p * h * w))]] = True
                mask_bits = binary_entropy(p) * h * w if rule == "edge" else 0.0
                rows.append({"image": f.name, "rule": rule, "fraction": p,
                             **point(sel.reshape(h, w), mask_bits)})
        print(f.name, json.dumps(rows[-1]), flush=True)
    summary = {}
    for r in rows:
        key = f"{r['rule']}@{r['fraction']}"
        summary.setdefault(key, []).append(r)
    table = {k: {m: round(float(np.mean([r[m] for r in v])), 4) for m in v[0] if m not in ("image", "rule")}
             for k, v in summary.items()}
    Path(args.out).write_text(json.dumps({"images": len(files), "mean": table, "rows": rows}, indent=1) + "\n")
    for k, v in table.items():
        print(k, v)


if __name__ == "__main__":
    main()
