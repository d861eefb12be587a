"""Training losses learned families share: texture statistics and a small adversarial critic."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def texture_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Texture statistics: L1 between per-channel spatial mean and std of `net.features` of x and y
    (inputs in [-1, 1]), each layer relative to y's mean magnitude. Blur lowers feature variance
    while LPIPS's normalised distance barely notices; this term does, without touching DISTS's VGG."""
    total, layers = x.new_zeros(()), 0
    for fx, fy in zip(net.features(x), net.features(y)):
        layers += 1
        mx, my = fx.mean((2, 3)), fy.mean((2, 3))
        sx, sy = fx.std((2, 3)), fy.std((2, 3))
        scale = my.abs().mean() + sy.mean() + 1e-6
        total = total + ((mx - my).abs().mean() + (sx - sy).abs().mean()) / scale
    return total / max(layers, 1)


class PatchDiscriminator(nn.Module):
    """A small PatchGAN: a real/fake logit per ~30-pixel patch (inputs in [0, 1])."""

    def __init__(self, ch: int = 48):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(3, ch, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(ch, ch * 2, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(ch * 2, ch * 4, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(ch * 4, 1, 3, 1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def hinge_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The critic's hinge loss: real above +1, fake below -1."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's side of the hinge GAN: raise the critic's score of its output."""
    return -fake_logits.mean()
