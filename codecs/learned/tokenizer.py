"""The tokenizer capability: a learned codec whose latent is a stack of VQ token grids.

Why a capability: a token-prior family (UIGC) codes and regenerates another model's tokens. It
finds that model through the registry by name and uses it through this interface only, so no
family imports another and the tokenizer's weights (and their hash) stay its own.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..base import ProgressFn


class Tokenizer(ABC):
    """Image <-> token grids (stage s of S, each an h x w grid of indices in [0, vocab(s)))."""

    #: Image pixels per token along each axis.
    factor: int = 16

    @abstractmethod
    def tokenize(self, image: np.ndarray) -> np.ndarray:
        """S x h x w int64 token indices of an HxWx3 uint8 image."""

    @abstractmethod
    def detokenize(self, tokens: np.ndarray, depth: np.ndarray, height: int, width: int, *,
                   progress: ProgressFn | None = None) -> np.ndarray:
        """The HxWx3 uint8 image of token grids (S x h x w) using `depth[y, x]` stages per position
        (`progress` as for `Codec.decode`: a large image renders in tiles, a cancel stops between)."""

    @abstractmethod
    def vocab(self, stage: int) -> int:
        """Number of token values of stage `stage` (1-based)."""

    @property
    @abstractmethod
    def num_stages(self) -> int:
        """S: how many token stages `tokenize` returns."""

    @abstractmethod
    def encode_stage(self, tokens: np.ndarray, present: np.ndarray, stage: int) -> bytes:
        """Entropy-code stage `stage`'s h x w `tokens` at the `present` positions with the
        tokenizer's own model: a token-prior family that codes only the first stage still sends
        later stages where it wants more detail (inside a ROI) without a model of its own."""

    @abstractmethod
    def decode_stage(self, payload: bytes, present: np.ndarray, stage: int, out: np.ndarray,
                     what: str = "layer") -> None:
        """Inverse of `encode_stage`: writes the decoded tokens into `out` (h x w) at `present`;
        corrupt or short bytes raise GicFormatError naming `what`."""
