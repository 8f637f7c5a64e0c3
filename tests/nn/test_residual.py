"""VQ-VAE residual encoder and decoder: shapes for 28x28, 32x32 and odd sides, gradients through the quantizer."""

import pytest
import torch

from vaekit.models.quantizer import VectorQuantizer
from vaekit.nn.residual import ResidualBlock, ResidualDecoder, ResidualEncoder


@pytest.mark.parametrize(
    "shape, code_shape", [((1, 28, 28), (7, 7)), ((3, 32, 32), (8, 8)), ((1, 30, 30), (8, 8)), ((1, 9, 4), (3, 1))]
)
def test_encoder_and_decoder_shapes(shape, code_shape):
    channels = shape[0]
    sizes = {"hidden_channels": 16, "num_residual_blocks": 2, "embedding_dim": 5}
    encoder = ResidualEncoder(shape[1:], channels, **sizes)
    decoder = ResidualDecoder(shape[1:], channels, **sizes)
    z_e = encoder(torch.rand(3, *shape))
    assert z_e.shape == (3, 5, *code_shape)
    assert decoder(z_e).shape == (3, *shape)
    assert decoder(z_e.expand(2, *z_e.shape)).shape == (2, 3, *shape)  # leading dimensions pass through


def test_encoder_refuses_images_of_another_size_than_it_was_built_for():
    encoder = ResidualEncoder((28, 28), 1, hidden_channels=8, num_residual_blocks=1, embedding_dim=4)
    with pytest.raises(ValueError, match="built for 28x28 images but got 30x30"):
        encoder(torch.rand(1, 1, 30, 30))


def test_residual_block_with_a_zero_last_layer_is_the_identity():
    block = ResidualBlock(6, residual_channels=3)
    with torch.no_grad():
        block.body[-1].weight.zero_()
        block.body[-1].bias.zero_()
    x = torch.randn(2, 6, 4, 4)
    torch.testing.assert_close(block(x), x)


def test_reconstruction_loss_reaches_the_encoder_through_the_quantizer():
    encoder = ResidualEncoder((28, 28), 1, hidden_channels=8, num_residual_blocks=1, embedding_dim=4)
    decoder = ResidualDecoder((28, 28), 1, hidden_channels=8, num_residual_blocks=1, embedding_dim=4)
    vq = VectorQuantizer(16, 4)
    x = torch.rand(2, 1, 28, 28)
    q = vq(encoder(x))
    loss = (decoder(q.z_q) - x).pow(2).sum() + q.codebook_loss.sum() + 0.25 * q.commitment_loss.sum()
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters())
    assert vq.codebook.grad.abs().sum() > 0
