"""Cut the training photos into a folder small enough to travel to the GPU machine.

The device tool sends the working tree and at most 64 MiB in all; the repository is ~34 MB, so the
580 training photos (47 MB) cannot travel whole. Each photo gives one random crop (half the time
from the photo at half size, the scale of Kodak-like images), re-encoded as JPEG 4:4:4 at
block-aligned offsets so that little is lost, until `--budget-mb` is reached.

    python research/device/make_data.py --src ../shared/datasets/train --out .device_data/train
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image


def crops(src: Path, crop: int, seed: int):
    rng = np.random.default_rng(seed)
    for path in sorted(p for p in src.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}):
        with Image.open(path) as im:
            im = im.convert("RGB")
            if max(im.size) > 700 and rng.random() < 0.5 and min(im.size) // 2 >= crop:
                im = im.resize((im.size[0] // 2, im.size[1] // 2), Image.LANCZOS)
            w, h = im.size
            c = min(crop, w, h) // 8 * 8
            x = int(rng.integers(0, (w - c) // 8 + 1)) * 8
            y = int(rng.integers(0, (h - c) // 8 + 1)) * 8
            yield path.stem, im.crop((x, y, x + c, y + c))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--crop", type=int, default=384)
    p.add_argument("--quality", type=int, default=90)
    p.add_argument("--budget-mb", type=float, default=26.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    total = n = 0
    for stem, im in crops(Path(a.src), a.crop, a.seed):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=a.quality, subsampling=0)
        if total + buf.tell() > a.budget_mb * 1e6:
            break
        (out / f"{stem}.jpg").write_bytes(buf.getvalue())
        total += buf.tell()
        n += 1
    print(f"wrote {n} crops, {total / 1e6:.1f} MB, to {out}")


if __name__ == "__main__":
    main()
