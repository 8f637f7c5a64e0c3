"""MIWAE's imputations (vaekit.evaluate.imputation): observed cells never change, and on a factor-analysis table,
whose conditional p(x_mis | x_obs) is Gaussian in closed form, the importance-weighted conditional mean and the
sampling-importance-resampling draws match it within their Monte Carlo error."""

import pytest
import torch

from linear_gaussian import factor_analysis_vae
from vaekit.config import load_config
from vaekit.errors import VaekitError
from vaekit.evaluate.imputation import draw_imputations, draw_spread, impute_rows
from vaekit.models import build_model
from vaekit.spec import Column, DataSpec

MIXED = DataSpec.table(
    (
        Column("a", "real", mean=3.0, std=2.0),
        Column("b", "binary", ("no", "yes")),
        Column("c", "categorical", ("x", "y", "z", "w")),
        Column("d", "count", mean=4.0),
    ),
    preprocessing={"missing": "model"},
)


def mixed_rows(n: int = 12) -> torch.Tensor:
    """Rows of MIXED (N, 4) in the model's numbers, float64, with about a third of the cells NaN."""
    g = torch.Generator().manual_seed(3)
    x = torch.stack(
        [
            torch.randn(n, generator=g, dtype=torch.float64),
            torch.randint(0, 2, (n,), generator=g).double(),
            torch.randint(0, 4, (n,), generator=g).double(),
            torch.randint(0, 9, (n,), generator=g).double(),
        ],
        1,
    )
    return x.masked_fill(torch.rand(x.shape, generator=g, dtype=torch.float64) < 0.35, float("nan"))


def mixed_model():
    cfg = load_config(
        overrides=["model.latent_dim=2", "model.network.hidden=[8]", "model.likelihood.type=columns"]
    ).model
    return build_model(cfg, MIXED, seed=1).double().eval()


def test_observed_cells_never_change_and_imputed_cells_are_valid_values():
    model, x = mixed_model(), mixed_rows()
    missing = x.isnan()
    assert missing.any() and (~missing).any()
    single = impute_rows(model, x, 50, torch.Generator().manual_seed(0))
    draws = draw_imputations(model, x, 7, 50, torch.Generator().manual_seed(0))  # (7, N, D)
    assert single.shape == x.shape and draws.shape == (7, *x.shape)
    for completed in (single, *draws):
        assert torch.equal(completed[~missing], x[~missing])  # bit for bit
        assert not completed.isnan().any()
    # single: a binary column gets P(second value), a categorical one a category index; draws: the values of a row
    assert ((single[:, 1] >= 0) & (single[:, 1] <= 1)).all()
    for values in (single[:, 2], draws[..., 2]):
        assert torch.equal(values, values.round()) and values.min() >= 0 and values.max() <= 3
    assert torch.equal(draws[..., 1], draws[..., 1].round()) and draws[..., 3].min() >= 0
    assert torch.equal(draws[..., 3], draws[..., 3].round())


def test_a_complete_row_is_returned_as_it_is_and_bad_arguments_are_refused():
    model = mixed_model()
    x = torch.tensor([[0.5, 1.0, 2.0, 3.0]], dtype=torch.float64)
    assert torch.equal(impute_rows(model, x, 10), x)
    with pytest.raises(VaekitError, match="at least 1"):
        impute_rows(model, x, 0)
    with pytest.raises(VaekitError, match="draws must be at least 1"):
        draw_imputations(model, x, 0)


def factor_analysis_problem():
    """The FA table model with a proposal wider than every posterior (variance 3 > the prior's 1 >= the posterior's),
    rows with different cells missing, and the exact conditional mean and variance of each missing cell."""
    model, w, psi, _ = factor_analysis_vae(log_var=torch.full((2,), 3.0).log(), missing=True)
    cov = w @ w.T + torch.diag(psi)  # (D, D): the marginal of x in standardized units
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 4, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T  # (B, D) ~ N(0, cov)
    missing = torch.tensor(
        [[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0], [1, 1, 1, 0]], dtype=torch.bool
    )  # a different pattern per row
    mean, var = torch.zeros_like(x), torch.zeros_like(x)
    for i in range(x.shape[0]):
        m, o = missing[i], ~missing[i]
        gain = cov[m][:, o] @ torch.linalg.inv(cov[o][:, o])  # C_mo C_oo^-1
        mean[i, m] = gain @ x[i, o]
        var[i, m] = (cov[m][:, m] - gain @ cov[o][:, m]).diagonal()
    return model, x.masked_fill(missing, float("nan")), missing, mean, var


def test_importance_weighted_imputation_matches_the_exact_gaussian_conditional_mean():
    """Over R independent runs the estimates' mean is within 5 standard errors of E[x_mis | x_obs], and the
    standard error is small enough that a wrong answer (the zero-filled encoder's own guess) would fail."""
    model, x, missing, exact, _ = factor_analysis_problem()
    runs = torch.stack([impute_rows(model, x, 2000, torch.Generator().manual_seed(r)) for r in range(8)])  # (R, B, D)
    estimate, error = runs.mean(0)[missing], runs.std(0)[missing] / runs.shape[0] ** 0.5
    assert (error < 0.02).all(), error
    assert ((estimate - exact[missing]).abs() < 5 * error + 1e-3).all(), (estimate, exact[missing], error)
    point = model.likelihood(model.posterior(x).mean).mean  # p(x|z) at the proposal's mean: not the conditional mean
    assert ((point[missing] - exact[missing]).abs() > 10 * error).any()


def test_resampled_draws_follow_the_exact_gaussian_conditional():
    """M draws of each missing cell have the conditional's mean (within the draws' and the weights' Monte Carlo
    error) and its variance (within 15 %: the sample variance's relative error is sqrt(2 / M) = 3 %)."""
    model, x, missing, exact, var = factor_analysis_problem()
    num_draws = 2000
    draws = draw_imputations(model, x, num_draws, 4000, torch.Generator().manual_seed(11))  # (M, B, D)
    single = torch.stack([impute_rows(model, x, 4000, torch.Generator().manual_seed(r)) for r in range(6)])
    weights_error = single.std(0)[missing]  # the self-normalized estimate's own spread at L = 4000
    tolerance = 4 * (var[missing] / num_draws + weights_error**2).sqrt()
    assert ((draws.mean(0)[missing] - exact[missing]).abs() < tolerance).all()
    assert torch.allclose(draws.var(0)[missing], var[missing], rtol=0.15)


def test_draw_spread_is_the_standard_deviation_or_the_share_off_the_most_frequent_value():
    spec = DataSpec.table((Column("r", "real", mean=10.0, std=2.0), Column("c", "categorical", ("p", "q", "s"))))
    draws = torch.tensor(
        [[[0.0, 1.0], [1.0, 2.0]], [[1.0, 1.0], [1.0, 0.0]], [[2.0, 2.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 2.0]]],
        dtype=torch.float64,
    )  # (M=4, B=2, D=2)
    spread = draw_spread(draws, spec)
    # row 0: r draws 0, 1, 2, 1 (population std sqrt(0.5), times the column's std 2); c draws 1, 1, 2, 1: one off
    # row 1: r always 1; c draws 2, 0, 1, 2: two off the most frequent (2)
    expected = torch.tensor([[2 * 0.5**0.5, 0.25], [0.0, 0.5]], dtype=torch.float64)
    assert torch.allclose(spread, expected)
