"""Writes v1_sample.gic, the frozen format-version-1 file that tests/codecs/test_container.py opens.

Run once, with a gic whose container.FORMAT_VERSION is 1:  python tests/data/legacy/make_legacy.py
Never regenerate it with a later format version: its point is that files written by gic 0.1
(format 1) keep opening. The expected contents are plain values here, independent of gic's classes.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def sample() -> dict:
    """Every field of the frozen file, as plain Python values."""
    h, w = 17, 33  # odd sizes: the ROI mask does not fill whole bytes
    roi = np.zeros((h, w), dtype=bool)
    roi[4:13, 8:25] = True
    roi[0, 0] = roi[-1, -1] = True
    return {
        "width": w, "height": h, "codec": "progic", "model_id": "progic-small-v1",
        "model_hash": hashlib.sha256(b"gic legacy sample weights").digest()[:16],
        "num_layers": 3,
        "layers": [b"layer one \x00\x01\x02", bytes(range(256)), b""],
        "params": {"latent": [2, 3], "depth": 3, "background_depth": 1},
        "roi": roi,
        "metadata": {"encoder": "gic progic", "quality": 3, "source": "synthetic"},
    }


def main() -> None:
    from gic.codecs import container

    assert container.FORMAT_VERSION == 1, "this file must stay a version-1 file"
    s = sample()
    header = container.Header(width=s["width"], height=s["height"], codec=s["codec"],
                              model_id=s["model_id"], model_hash=s["model_hash"],
                              num_layers=s["num_layers"])
    data = container.pack(header, s["layers"], params=s["params"], roi=s["roi"], metadata=s["metadata"])
    out = Path(__file__).with_name("v1_sample.gic")
    out.write_bytes(data)
    print(f"wrote {out} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
