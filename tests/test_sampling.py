"""Latent traversals: one dimension sweeps [-R, R] from a reference image's posterior mean; rows ordered by KL."""

import torch

from linear_gaussian import D, P, linear_gaussian_vae
from vaekit.plotting import kl_bar_chart
from vaekit.sampling import dims_by_kl, traverse


def test_traversal_sets_one_dimension_per_row_and_holds_the_others():
    model, _ = linear_gaussian_vae(exact_posterior=True)
    x = torch.randn(1, 1, P, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    images = traverse(model, x, dims=[2, 0], steps=5, radius=2.0)
    assert images.shape == (2, 5, 1, 1, P)
    mu = model.encode(x.unsqueeze(0))[0]  # (D,)
    for row, dim in enumerate([2, 0]):
        z = mu.repeat(5, 1)
        z[:, dim] = torch.linspace(-2.0, 2.0, 5, dtype=torch.float64)
        torch.testing.assert_close(images[row], model.decode(z))


def test_a_traversal_of_an_unused_dimension_is_constant():
    model, _ = linear_gaussian_vae(exact_posterior=True)
    with torch.no_grad():
        model.decoder.body[0].weight[:, 1] = 0  # the decoder ignores z_1
    x = torch.zeros(1, 1, P, dtype=torch.float64)
    images = traverse(model, x, dims=[1], steps=4, radius=3.0)[0]  # (K, 1, 1, P)
    torch.testing.assert_close(images, images[:1].expand_as(images))


def test_dims_by_kl_puts_the_most_informative_first():
    kl = torch.tensor([0.1, 3.0, 0.0, 1.5])
    assert dims_by_kl(kl) == [1, 3, 0, 2]
    assert dims_by_kl(kl, [0, 2, 3]) == [3, 0, 2]


def test_kl_bar_chart_has_one_bar_per_dimension():
    fig = kl_bar_chart([0.5, 2.0, 0.0])
    (ax,) = fig.axes
    assert [p.get_height() for p in ax.patches] == [0.5, 2.0, 0.0]
    assert D == 3
