"""VQ-VAE residual encoder and decoder: shapes for 28x28 and 32x32, gradients through the quantizer."""

import pytest
import torch

from vaekit.models.quantizer import VectorQuantizer
from vaekit.nn.residual import ResidualBlock, ResidualDecoder, ResidualEncoder


@pytest.mark.parametrize("shape, latent_side", [((1, 28, 28), 7), ((3, 32, 32), 8)])
def test_encoder_and_decoder_shapes(shape, latent_side):
    channels = shape[0]
    encoder = ResidualEncoder(channels, hidden_channels=16, num_residual_blocks=2, embedding_dim=5)
    decoder = ResidualDecoder(channels, hidden_channels=16, num_residual_blocks=2, embedding_dim=5)
    z_e = encoder(torch.rand(3, *shape))
    assert z_e.shape == (3, 5, latent_side, latent_side)
    assert decoder(z_e).shape == (3, *shape)
    assert decoder(z_e.expand(2, *z_e.shape)).shape == (2, 3, *shape)  # leading dimensions pass through


def test_encoder_refuses_sides_not_divisible_by_4():
    encoder = ResidualEncoder(1, hidden_channels=8, num_residual_blocks=1, embedding_dim=4)
    with pytest.raises(ValueError, match="divisible by 4"):
        encoder(torch.rand(1, 1, 30, 30))


def test_residual_block_with_a_zero_last_layer_is_the_identity():
    block = ResidualBlock(6, residual_channels=3)
    with torch.no_grad():
        block.body[-1].weight.zero_()
        block.body[-1].bias.zero_()
    x = torch.randn(2, 6, 4, 4)
    torch.testing.assert_close(block(x), x)


def test_reconstruction_loss_reaches_the_encoder_through_the_quantizer():
    encoder = ResidualEncoder(1, hidden_channels=8, num_residual_blocks=1, embedding_dim=4)
    decoder = ResidualDecoder(1, hidden_channels=8, num_residual_blocks=1, embedding_dim=4)
    vq = VectorQuantizer(16, 4)
    x = torch.rand(2, 1, 28, 28)
    q = vq(encoder(x))
    loss = (decoder(q.z_q) - x).pow(2).sum() + q.codebook_loss.sum() + 0.25 * q.commitment_loss.sum()
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters())
    assert vq.codebook.grad.abs().sum() > 0
