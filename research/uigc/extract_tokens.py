"""Cache the tokenizer's stage-1 token grids of a folder of photos (training data for the prior).

    python research/uigc/extract_tokens.py /work/shared/datasets/train /work/runs/uigc/tokens.npz
    python research/uigc/extract_tokens.py /work/shared/datasets/kodak /work/runs/uigc/kodak.npz --plain

Augmentation (unless --plain): scale 1 and 0.75, horizontal flip, shift by 0 or 8 pixels, so each
photo gives 8 grids. The tokenizer is the registered codec the UIGC codec tokenizes with.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from gic.codecs import registry
from gic.codecs.imageio import list_images


def variants(img: Image.Image, plain: bool):
    if plain:
        yield np.asarray(img.convert("RGB"))
        return
    for scale in (1.0, 0.75):
        im = img if scale == 1.0 else img.resize((round(img.width * scale), round(img.height * scale)),
                                                  Image.LANCZOS)
        a = np.asarray(im.convert("RGB"))
        for flip in (False, True):
            b = a[:, ::-1] if flip else a
            for shift in (0, 8):
                yield np.ascontiguousarray(b[shift:, shift:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("--plain", action="store_true", help="no augmentation (evaluation sets)")
    ap.add_argument("--tokenizer", default="progic")
    args = ap.parse_args(argv)
    codec = registry.create(args.tokenizer)
    grids, names = [], []
    files = list_images(Path(args.folder))
    t0 = time.time()
    for i, f in enumerate(files):
        with Image.open(f) as img:
            for v in variants(img, args.plain):
                grids.append(codec.tokenize(v)[0].astype(np.uint8))
                names.append(f.name)
        if i % 50 == 0:
            print(f"{i}/{len(files)} {time.time() - t0:.0f}s", flush=True)
    shapes = np.array([g.shape for g in grids], dtype=np.int32)
    np.savez(args.out, flat=np.concatenate([g.ravel() for g in grids]), shapes=shapes,
             names=np.array(names))
    print(f"wrote {len(grids)} grids, {shapes.prod(1).sum()} tokens to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
