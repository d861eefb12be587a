"""Shared training losses."""
import torch

from gic.codecs.learned.losses import (PatchDiscriminator, hinge_discriminator_loss, hinge_generator_loss,
                                       texture_loss)


def test_texture_loss_is_zero_for_identical_images_and_penalises_blur():
    from gic.codecs.metrics.lpips import LPIPS
    net = LPIPS()  # random AlexNet weights are enough to test the statistic itself
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
    blurred = torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)
    assert float(texture_loss(net, x, x)) == 0.0
    assert float(texture_loss(net, blurred, x)) > 0.05
    y = x.clone().requires_grad_(True)
    texture_loss(net, y + 0.1, x).backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()


def test_hinge_losses_are_zero_past_the_margins_and_the_critic_scores_patches():
    real, fake = torch.full((2, 1, 4, 4), 2.0), torch.full((2, 1, 4, 4), -3.0)
    assert float(hinge_discriminator_loss(real, fake)) == 0.0
    assert float(hinge_discriminator_loss(-real, -fake)) > 0
    assert float(hinge_generator_loss(fake)) == 3.0
    logits = PatchDiscriminator(ch=8)(torch.rand(1, 3, 64, 64))
    assert logits.shape == (1, 1, 8, 8)
