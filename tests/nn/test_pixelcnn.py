"""Gated PixelCNN prior over code maps: causality without a blind spot, normalisation, seeded sampling."""

import pytest
import torch

from vaekit.nn.pixelcnn import GatedPixelCNN


def pixelcnn(num_codes: int, seed: int = 0, **kwargs) -> GatedPixelCNN:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GatedPixelCNN(num_codes, **kwargs).double()


@pytest.mark.parametrize("first_kernel_size", [3, 7])
def test_logits_depend_on_every_earlier_position_and_on_no_later_one(first_kernel_size):
    height, width = 5, 5
    model = pixelcnn(3, hidden_channels=8, num_layers=5, kernel_size=3, first_kernel_size=first_kernel_size)
    x = torch.randn(1, 8, height, width, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x.requires_grad_()
    logits = model.logits_from_embeddings(x)  # (1, K, H, W)
    for i in range(height * width):
        (grad,) = torch.autograd.grad(logits[0, :, i // width, i % width].sum(), x, retain_graph=True)
        reach = grad.abs().sum(dim=1).flatten()  # (H*W,) in raster order
        assert torch.all(reach[i:] == 0), f"position {i} sees itself or a later position"
        # every earlier position, including those above and to the right (the masked-conv blind spot)
        assert torch.all(reach[:i] > 0), f"position {i} misses {(reach[:i] == 0).nonzero().flatten().tolist()}"


def test_log_prob_is_normalised_over_all_code_maps():
    model = pixelcnn(2, hidden_channels=8, num_layers=3, first_kernel_size=3)
    bits = torch.arange(2**9)[:, None] >> torch.arange(9)  # (512, 9)
    every_map = (bits & 1).view(-1, 3, 3)  # all 512 binary 3x3 code maps
    log_p = model.log_prob(every_map)  # (512,)
    assert log_p.shape == (512,) and torch.all(log_p < 0)
    torch.testing.assert_close(torch.logsumexp(log_p, 0), torch.zeros((), dtype=torch.float64))
    probs = torch.softmax(model(every_map[:4]), dim=1)  # (4, K, 3, 3)
    torch.testing.assert_close(probs.sum(1), torch.ones(4, 3, 3, dtype=torch.float64))


def test_sampling_with_the_same_seed_is_deterministic():
    model = pixelcnn(4, hidden_channels=8, num_layers=2, first_kernel_size=3)
    a = model.sample(3, (3, 4), generator=torch.Generator().manual_seed(0))
    b = model.sample(3, (3, 4), generator=torch.Generator().manual_seed(0))
    c = model.sample(3, (3, 4), generator=torch.Generator().manual_seed(1))
    assert a.shape == (3, 3, 4) and a.dtype == torch.int64
    assert a.min() >= 0 and a.max() < 4
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_samples_follow_the_model_distribution():
    model = pixelcnn(2, hidden_channels=8, num_layers=2, first_kernel_size=3)
    with torch.no_grad():
        model.output[-1].weight.mul_(20)  # sharpen the conditionals away from uniform
    samples = model.sample(4000, (2, 2), generator=torch.Generator().manual_seed(0))  # (4000, 2, 2)
    index = (samples.flatten(1) * torch.tensor([1, 2, 4, 8])).sum(1)  # each binary map as a number in [0, 16)
    frequency = torch.bincount(index, minlength=16).double() / 4000
    bits = torch.arange(16)[:, None] >> torch.arange(4)
    p = model.log_prob((bits & 1).view(16, 2, 2)).exp()  # (16,)
    assert p.max() > 3 * p.min()  # the check below is not between two near-uniform vectors
    assert (frequency - p).abs().max() < 0.02
