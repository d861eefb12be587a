"""The inference shortcut of the depth-modulated block computes the same function as training."""
from __future__ import annotations

import torch

from gic.codecs.progic.blocks import DSBlock


def _block() -> DSBlock:
    torch.manual_seed(0)
    blk = DSBlock(16, kernel=3, num_depths=5)
    with torch.no_grad():  # FiLM starts at zero; give it real values so folding is exercised
        blk.film.weight.normal_(0, 0.3)
        blk.gamma.fill_(0.7)
    return blk


def test_folded_block_matches_general_path_for_uniform_depth():
    blk, x = _block(), torch.randn(2, 16, 12, 10)
    depth = torch.full((2, 3, 5), 3)  # latent grid coarser than x: the general path upsamples
    blk.train()
    want = blk(x, depth)
    blk.eval()
    assert blk._folded(x, depth) is not None
    torch.testing.assert_close(blk(x, depth), want, rtol=1e-5, atol=1e-5)


def test_varying_depth_takes_the_general_path():
    blk, x = _block(), torch.randn(1, 16, 8, 8)
    depth = torch.tensor([[[1, 2], [3, 4]]])
    blk.eval()
    assert blk._folded(x, depth) is None
    blk.train()
    want = blk(x, depth)
    blk.eval()
    torch.testing.assert_close(blk(x, depth), want)


def test_unmodulated_block_folds_the_layer_scale():
    torch.manual_seed(1)
    blk, x = DSBlock(8), torch.randn(1, 8, 6, 6)
    want = blk.train()(x)
    torch.testing.assert_close(blk.eval()(x), want, rtol=1e-5, atol=1e-5)
