"""Per-row scores (vaekit.evaluate.likelihood.iw_scores) on a factor-analysis table whose posterior is known: each
column's share tends to E_p(z|x)[log p(x_j|z)], the rest to -KL(p(z|x) || p(z)), they add up to the IW estimate,
which is never below the ELBO at the same draws; chunks change nothing."""

from __future__ import annotations

import math

import torch

from linear_gaussian import factor_analysis_table
from vaekit.evaluate.likelihood import column_reconstruction, iw_log_likelihood, iw_scores
from vaekit.objectives.iwae import column_log_importance_weights


def exact_shares(fa) -> tuple[torch.Tensor, torch.Tensor]:
    """E_p(z|x)[log p(x_j|z)] (B, D) in the table's units, and -KL(p(z|x) || N(0, I)) (B,), in closed form."""
    mu = fa.posterior_mean()  # (B, K)
    residual = fa.x - mu @ fa.w.T  # (B, D): x - W E[z]
    spread = ((fa.w @ fa.sigma) * fa.w).sum(-1)  # (D,): w_j^T Sigma w_j
    columns = (
        -0.5 * torch.log(2 * math.pi * fa.psi) - (residual**2 + spread) / (2 * fa.psi) - torch.log(fa.stds)
    )  # (B, D)
    k = fa.sigma.shape[0]
    kl = 0.5 * (torch.trace(fa.sigma) + (mu**2).sum(-1) - k - torch.logdet(fa.sigma))  # (B,)
    return columns, -kl


def test_column_shares_tend_to_the_exact_posterior_expectations_and_the_rest_to_minus_the_kl():
    fa = factor_analysis_table()
    columns, latent = exact_shares(fa)
    scores = iw_scores(fa.model, fa.x, 20_000, torch.Generator().manual_seed(3), columns=True)
    # the self-normalized weights' bias and spread shrink as 1/K: 0.03 nats is several times them at K = 20000
    torch.testing.assert_close(scores.columns, columns, atol=0.03, rtol=0)
    torch.testing.assert_close(scores.latent, latent, atol=0.03, rtol=0)
    torch.testing.assert_close(scores.log_likelihood, fa.exact_log_px(), atol=0.01, rtol=0)
    # one sample is far from it: the shares are of the importance-weighted posterior, not of q
    one = iw_scores(fa.model, fa.x, 1, torch.Generator().manual_seed(3), columns=True)
    assert (one.columns - columns).abs().mean() > 5 * (scores.columns - columns).abs().mean()


def test_the_shares_add_up_to_the_estimate_which_is_the_likelihood_estimate_of_the_same_draws():
    fa = factor_analysis_table()
    scores = iw_scores(fa.model, fa.x, 300, torch.Generator().manual_seed(4), columns=True)
    torch.testing.assert_close(scores.columns.sum(-1) + scores.latent, scores.log_likelihood, atol=1e-12, rtol=0)
    same = iw_log_likelihood(fa.model, fa.x, 300, torch.Generator().manual_seed(4))
    torch.testing.assert_close(scores.log_likelihood, same, atol=1e-10, rtol=0)


def test_chunked_shares_equal_the_shares_of_all_the_draws_at_once():
    fa = factor_analysis_table()
    k, chunk = 50, 7
    b, d = fa.x.shape
    chunked = iw_scores(
        fa.model, fa.x, k, torch.Generator().manual_seed(5), max_chunk_elements=chunk * b * d, columns=True
    )
    g = torch.Generator().manual_seed(5)  # the same draws, in the same chunks, weighted in one softmax
    qz_x = fa.model.posterior(fa.x)
    with torch.no_grad():
        parts = [
            column_log_importance_weights(fa.model, fa.x, qz_x, qz_x.sample((min(chunk, k - s),), generator=g))
            for s in range(0, k, chunk)
        ]
    log_w = torch.cat([p[0] for p in parts])  # (K, B)
    log_px_j = torch.cat([p[1] for p in parts])  # (K, B, D)
    weights = torch.softmax(log_w, 0).unsqueeze(-1)  # (K, B, 1)
    torch.testing.assert_close(chunked.columns, (weights * log_px_j).sum(0), atol=1e-10, rtol=0)
    torch.testing.assert_close(chunked.elbo, log_w.mean(0), atol=1e-10, rtol=0)


def test_the_estimate_is_never_below_the_elbo_of_its_draws_and_above_an_independent_elbo_on_average():
    fa = factor_analysis_table()
    scores = iw_scores(fa.model, fa.x, 200, torch.Generator().manual_seed(6), columns=True)
    assert torch.all(scores.log_likelihood >= scores.elbo)  # Jensen, for every row
    elbos = torch.stack(
        [iw_scores(fa.model, fa.x, 1, torch.Generator().manual_seed(100 + r)).elbo for r in range(400)]
    )  # (400, B): independent one-sample ELBOs
    stderr = elbos.std(0) / math.sqrt(400)
    assert torch.all(scores.log_likelihood > elbos.mean(0) + 3 * stderr)


def test_with_one_sample_the_shares_are_the_columns_at_that_draw_and_the_estimate_is_the_elbo():
    fa = factor_analysis_table()
    one = iw_scores(fa.model, fa.x, 1, torch.Generator().manual_seed(7), columns=True)
    torch.testing.assert_close(one.log_likelihood, one.elbo, atol=1e-12, rtol=0)
    at_draw = column_reconstruction(fa.model, fa.x, torch.Generator().manual_seed(7))  # (B, D), one z each
    torch.testing.assert_close(one.columns, at_draw, atol=1e-12, rtol=0)
