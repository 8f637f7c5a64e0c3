"""MIWAE is the IWAE objective over the observed cells (vaekit.objectives.iwae, vaekit.nn.columns): a missing cell
adds nothing to log p(x|z) and sends no NaN into a gradient, and with nothing missing the bound is the IWAE bound."""

import torch

from linear_gaussian import factor_analysis_vae
from vaekit.objectives import Iwae


def test_with_nothing_missing_the_miwae_bound_equals_the_iwae_bound():
    """The same FA model with and without the mask inputs (weight 0) gives the same k = 5 bound, bit for bit."""
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    miwae, _, _, _ = factor_analysis_vae(missing=True)
    iwae, _, _, _ = factor_analysis_vae(missing=False)
    assert miwae.posterior_head.linear.weight.shape[1] == 2 * iwae.posterior_head.linear.weight.shape[1]
    bounds = [Iwae(5)(m, x, step=0, generator=torch.Generator().manual_seed(1)).loss for m in (miwae, iwae)]
    assert torch.equal(bounds[0], bounds[1])


def test_a_missing_cell_adds_nothing_to_log_p_x_given_z_and_no_nan_to_the_gradient():
    model, _, _, _ = factor_analysis_vae(missing=True)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    z = torch.randn(3, 5, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)  # (S, B, K)
    px_z = model.likelihood(z)
    holed = x.clone()
    holed[:, 1] = float("nan")
    holed[0, 3] = float("nan")
    per_column = px_z.column_log_prob(x)  # (S, B, D)
    expected = per_column.masked_fill(holed.isnan(), 0.0).sum(-1)
    assert torch.equal(px_z.log_prob(holed), expected)
    loss = Iwae(4)(model, holed, step=0, generator=torch.Generator().manual_seed(4)).loss
    grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    assert loss.isfinite() and all(g is None or g.isfinite().all() for g in grads)


def test_the_encoder_reads_a_missing_cell_as_zero_and_sees_the_mask():
    model, _, _, _ = factor_analysis_vae(missing=True)
    x = torch.tensor([[0.5, float("nan"), -1.0, 2.0]], dtype=torch.float64)
    u = model.input_layer(x)  # (1, 2D): zero-filled values, then the mask of observed cells
    assert torch.equal(u, torch.tensor([[0.5, 0.0, -1.0, 2.0, 1.0, 0.0, 1.0, 1.0]], dtype=torch.float64))
    complete, _, _, _ = factor_analysis_vae(missing=False)
    assert torch.equal(complete.input_layer(x.nan_to_num()), u[:, :4])  # without data.missing=model: no mask
