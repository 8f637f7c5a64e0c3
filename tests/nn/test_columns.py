"""The mixed-column likelihood of a table: normalized in float64, in the table's own units, and exact for a
factor-analysis model (x = W z + noise, whose log p(x) has a closed form)."""

import math

import pytest
import torch
from torch.distributions import Normal

from linear_gaussian import factor_analysis_table
from vaekit.evaluate.likelihood import iw_log_likelihood
from vaekit.nn.columns import ColumnsLikelihood
from vaekit.spec import Column, DataSpec

SPEC = DataSpec.table(
    (
        Column("a", "real", mean=3.0, std=2.0),
        Column("b", "binary", ("no", "yes")),
        Column("c", "categorical", ("x", "y", "z", "w")),
        Column("d", "count", mean=4.0),
        Column("e", "real", mean=-1.0, std=0.25),
    )
)


def distribution(count: str = "poisson", learn_sigma: str = "decoder", seed: int = 0):
    """p(x|z) for one row of SPEC with random decoder outputs, in float64."""
    head = ColumnsLikelihood(SPEC, 1.0, learn_sigma, count).double()
    params = torch.randn(head.parameter_shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return head(params)


def row(**values) -> torch.Tensor:
    base = {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": 0.0} | values
    return torch.tensor([[base[k] for k in "abcde"]], dtype=torch.float64)  # (1, D)


@pytest.mark.parametrize("count", ["poisson", "negative_binomial"])
def test_discrete_columns_sum_to_one(count):
    p = distribution(count)
    binary = sum(p.column_log_prob(row(b=v))[0, 1].exp() for v in (0.0, 1.0))
    categorical = sum(p.column_log_prob(row(c=float(k)))[0, 2].exp() for k in range(4))
    counts = torch.cat([p.column_log_prob(row(d=float(k)))[:, 3] for k in range(400)]).exp().sum()
    assert binary.item() == pytest.approx(1.0, abs=1e-12)
    assert categorical.item() == pytest.approx(1.0, abs=1e-12)
    assert counts.item() == pytest.approx(1.0, abs=1e-9)


def test_real_columns_integrate_to_one_over_their_own_units():
    """The density of column a is over its raw values v (x = (v - 3) / 2): integrating exp(log p) dv gives 1,
    which only holds with the standardization's log-Jacobian -log 2 included."""
    p = distribution()
    v = torch.linspace(-80.0, 80.0, 200_001, dtype=torch.float64)  # raw units
    x = torch.zeros(v.numel(), 5, dtype=torch.float64)
    x[:, 0] = (v - 3.0) / 2.0
    density = p.column_log_prob(x)[:, 0].exp()
    assert torch.trapezoid(density, v).item() == pytest.approx(1.0, abs=1e-8)


def test_raw_units_are_standardized_units_minus_the_log_standard_deviations():
    """log p(v) of a real column equals a Normal in raw units, N(m + s * mean, s * sigma), at v: i.e. the density
    of the standardized value minus log s."""
    p = distribution()
    x = row(a=0.7, e=-1.3)
    for j, column in ((0, SPEC.columns[0]), (4, SPEC.columns[4])):
        k = p.head.real.index(j)
        mean, sigma = p.real_mean[k], p.real_log_sigma[k].exp()
        v = column.mean + column.std * x[0, j]
        raw = Normal(column.mean + column.std * mean, column.std * sigma).log_prob(v)
        standardized = Normal(mean, sigma).log_prob(x[0, j])
        assert p.column_log_prob(x)[0, j].item() == pytest.approx(raw.item(), abs=1e-12)
        assert p.column_log_prob(x)[0, j].item() == pytest.approx((standardized - math.log(column.std)).item())


def test_log_prob_is_the_sum_of_the_columns_and_broadcasts_over_draws():
    head = ColumnsLikelihood(SPEC, 1.0, "per_column", "poisson").double()
    params = torch.randn(7, 3, *head.parameter_shape, dtype=torch.float64)  # (S, B, P)
    p = head(params)
    x = torch.cat([row(a=0.1, b=1.0, c=2.0, d=3.0), row(), row(c=3.0, d=9.0)])  # (B, D)
    assert p.log_prob(x).shape == (7, 3)
    torch.testing.assert_close(p.log_prob(x), p.column_log_prob(x).sum(-1))
    assert p.sample(generator=torch.Generator().manual_seed(0)).shape == (7, 3, 5)


def test_draws_follow_each_column_distribution():
    """10000 draws: the binary column's frequency is its probability, the counts' mean the Poisson rate, the
    categories' frequencies their softmax, the real column's mean and std its Normal's."""
    p = distribution("poisson", "per_column")
    draws = p.sample((20_000,), generator=torch.Generator().manual_seed(0))  # (N, D)
    assert draws[:, 1].mean().item() == pytest.approx(torch.sigmoid(p.bin_logits[0]).item(), abs=0.015)
    assert draws[:, 3].mean().item() == pytest.approx(p.count_log_mean[0].exp().item(), rel=0.03)
    freq = torch.bincount(draws[:, 2].long(), minlength=4) / draws.shape[0]
    torch.testing.assert_close(freq.double(), torch.softmax(p.cat_logits[0], -1), atol=0.015, rtol=0)
    assert draws[:, 0].mean().item() == pytest.approx(p.real_mean[0].item(), abs=0.03)
    assert draws[:, 0].std().item() == pytest.approx(p.real_log_sigma[0].exp().item(), rel=0.03)


def test_importance_weighted_estimate_approaches_the_exact_factor_analysis_likelihood():
    """Rows x = m + s * (W z + e), z ~ N(0, I_2), e ~ N(0, diag(psi)): log p(v) = N(v; m, S (W W^T + Psi) S) in
    raw units. A vaekit VAE with a linear decoder set to (W, psi) and an encoder giving a good but inexact posterior
    (the exact mean, twice the variance) estimates it better as K grows, and within 0.01 nats at K = 20000."""
    fa = factor_analysis_table()
    model, x, exact = fa.model, fa.x, fa.exact_log_px()
    g = torch.Generator().manual_seed(1)
    errors = [(iw_log_likelihood(model, x, n, g) - exact).abs().mean().item() for n in (1, 100, 20_000)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.01, errors
