"""UIGC measurements for the model card: bits per token (prior vs ProGIC's context tables, coder
overhead), and the dropping ablation (none vs checkerboard vs edge-preserving checkerboard).

    python research/uigc/ablate.py --data /work/shared/datasets/kodak --out research/uigc/ablate.json \
        --ablate-images 8

Bits per token on every image; the dropping ablation (four encodes and decodes an image) on the
first `--ablate-images`. Timings here are incidental (see benchmarks/uigc_speed.py for the speed
report against AVIF).

Bits/token: layer payload bits of a quality-5 file (no dropping) over its tokens; the ideal is the
fixed-point prior's own -log2 p of the same tokens; the float CE is the trained network's; the
baseline is ProGIC's stage-1 layer of a quality-1 ProGIC file (its row-above context tables).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from PIL import Image

from gic.codecs import container, metrics, registry
from gic.codecs.imageio import list_images
from gic.codecs.uigc.prior import TokenPrior
from gic.codecs.uigc.train import grid_bits


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--qualities", default="2,3")
    ap.add_argument("--ablate-images", type=int, default=None, help="dropping ablation on the first N")
    args = ap.parse_args(argv)
    edge, board = registry.create("uigc"), registry.create("uigc", ranking="checkerboard")
    progic = registry.create("progic")
    model = TokenPrior(edge.loaded.config).eval()
    model.load_state_dict(edge.loaded.torch_state())
    rows = []
    for n, f in enumerate(list_images(args.data, args.limit)):
        img = np.asarray(Image.open(f).convert("RGB"))
        px = img.shape[0] * img.shape[1]
        grid = edge.tokenizer.tokenize(img)[0]
        row = {"image": f.name, "tokens": int(grid.size)}
        t0 = time.perf_counter()
        full = edge.encode(img, 5)
        row["encode_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        *_, (f_, last) = edge.decoded_grids(full)
        out = edge._render(f_, last.tokens[None], np.ones(last.tokens.shape, np.int64))  # noqa: SLF001 (decode(), keeping the grid for the costs)
        row["decode_s"] = time.perf_counter() - t0
        assert (out == edge.decode(full)).all() if n == 0 else True
        g = container.unpack(full)
        row["coded_bits"] = 8 * sum(len(x) for x in g.layers)
        row["ideal_bits"] = float(last.cost.sum())
        row["float_ce_bits"] = float(grid_bits(model, grid).sum())
        row["file_bits_q5"] = 8 * len(full)
        row["lpips_q5"] = metrics.lpips(img, out)
        pg = container.unpack(progic.encode(img, 1))
        row["progic_stage1_bits"] = 8 * len(pg.layers[0])
        ablate = args.ablate_images is None or n < args.ablate_images
        for q in [int(x) for x in args.qualities.split(",")] if ablate else []:
            for name, codec in (("edge", edge), ("checkerboard", board)):
                data = codec.encode(img, q)
                row[f"{name}_q{q}_bpp"] = 8 * len(data) / px
                row[f"{name}_q{q}_lpips"] = metrics.lpips(img, codec.decode(data))
        rows.append(row)
        print(json.dumps(row), flush=True)
    tot = lambda k: sum(r[k] for r in rows)  # noqa: E731
    n = tot("tokens")
    summary = {"images": len(rows), "bits_per_token_coded": tot("coded_bits") / n,
               "bits_per_token_ideal": tot("ideal_bits") / n, "bits_per_token_float": tot("float_ce_bits") / n,
               "bits_per_token_progic_tables": tot("progic_stage1_bits") / n,
               "coder_overhead": tot("coded_bits") / tot("ideal_bits") - 1,
               "saving_vs_tables": 1 - tot("coded_bits") / tot("progic_stage1_bits"),
               "encode_s_median": float(np.median([r["encode_s"] for r in rows])),
               "decode_s_median": float(np.median([r["decode_s"] for r in rows]))}
    for k in rows[0]:
        if k.endswith("_bpp") or k.endswith("_lpips") or k == "lpips_q5":
            have = [r[k] for r in rows if k in r]
            summary[k] = float(np.mean(have))
            summary[k + "_images"] = len(have)
    json.dump({"summary": summary, "rows": rows}, open(args.out, "w"), indent=1)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
