"""MCDH's architecture config and coding constants, importable without torch (the ONNX Runtime
decode path reads them from the runtime sidecar)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

SCALE_MIN = 0.11  # smallest Gaussian scale (training clamps to it; the first coding table)
SCALE_MAX = 64.0
NUM_SCALES = 64
Y_SUPPORT = 200  # latent residuals coded in [-Y_SUPPORT, Y_SUPPORT]


@dataclass
class MCDHConfig:
    n: int = 64  # transform channels
    m: int = 96  # latent channels
    zs: int = 64  # spatial hyper-latent channels (1/64)
    zc: int = 32  # channel hyper-latent length (one vector per image)
    hid: int = 128  # entropy-parameter width
    window: int = 4  # attention window at 1/16
    heads: int = 4
    levels: int = 8  # rate levels (gain vectors): quality 1..levels
    z_support: int = 24  # hyper-latents coded in [-z_support, z_support]

    def to_dict(self) -> dict:
        return asdict(self)


def table_scales() -> np.ndarray:
    """The Gaussian scale of each coding table."""
    return np.geomspace(SCALE_MIN, SCALE_MAX, NUM_SCALES)
