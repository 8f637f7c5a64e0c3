"""Active units count the dimensions whose posterior mean varies with x."""

import torch

from linear_gaussian import D, data, linear_gaussian_vae
from vaekit.evaluate.diagnostics import active_units


def test_active_units_of_known_variances():
    g = torch.Generator().manual_seed(0)
    scales = torch.tensor([1.0, 0.5, 0.05, 0.0, 0.2])  # variances 1, 0.25, 0.0025, 0, 0.04
    means = torch.randn(20_000, 5, generator=g) * scales
    count, variance = active_units(means)
    assert count == 3
    torch.testing.assert_close(variance, (scales**2).double(), atol=0.01, rtol=0.05)


def test_collapsed_dimensions_of_a_model_are_not_counted():
    model, _ = linear_gaussian_vae(exact_posterior=False)
    with torch.no_grad():
        model.posterior_head.linear.weight[1].zero_()  # dimension 1's mean no longer depends on x
    count, variance = active_units(model.encode(data(500)))
    assert count == D - 1 and variance[1] == 0
