"""Imputation of a table's missing cells by importance sampling (Mattei & Frellsen 2019, "MIWAE: Deep Generative
Modelling and Imputation of Incomplete Data Sets").

With z_1..z_L ~ q(z|x_obs) and self-normalized weights w~_l proportional to p(x_obs|z_l) p(z_l) / q(z_l|x_obs):

    single imputation     E[x_mis | x_obs] ~= sum_l w~_l E[x_mis | z_l]: the conditional mean of a real or count
                          column, and for a binary or categorical one the most probable category of
                          sum_l w~_l p(x_j | z_l) (MixedColumns.mixture_point)
    multiple imputation   sampling importance resampling: z drawn from {z_l} with probabilities w~, then
                          x_mis ~ p(x_mis | z); M draws are M plausible completions of the row

Rows are x (B, D) in the model's numbers with NaN where a cell is missing; observed cells are returned unchanged.
The authors' notebook weights draws x_mis ~ p(x|z_l) for the single imputation; the conditional mean E[x_mis|z_l]
used here has the same expectation and less variance.
"""

from __future__ import annotations

import torch

from vaekit.errors import VaekitError
from vaekit.objectives.iwae import log_importance_weights
from vaekit.spec import DataSpec

MAX_CHUNK_ELEMENTS = 2**16  # rows x importance samples decoded at once (a 128-wide decoder: 32 MiB of float32)


def _weighted_draws(model, x: torch.Tensor, num_samples: int, generator: torch.Generator | None, **cond):
    """z (L, B, ...) ~ q(z|x_obs), p(x|z) at them, and the self-normalized importance weights (L, B)."""
    qz_x = model.posterior(x, **cond)
    z = qz_x.sample((num_samples,), generator=generator)  # (L, B, D_z)
    px_z = model.likelihood(z, **cond)
    log_w = log_importance_weights(model, x, qz_x, z, px_z, **cond)  # (L, B)
    return z, px_z, torch.softmax(log_w, 0)


def _row_chunks(x: torch.Tensor, cond: dict, num_samples: int):
    rows = max(1, MAX_CHUNK_ELEMENTS // num_samples)
    for start in range(0, x.shape[0], rows):
        yield x[start : start + rows], {k: v[start : start + rows] for k, v in cond.items()}


def _check(x: torch.Tensor, num_samples: int) -> None:
    if x.dim() != 2:
        raise VaekitError(f"imputation takes rows x (B, D), got shape {tuple(x.shape)}.")
    if num_samples < 1:
        raise VaekitError(f"the number of importance samples must be at least 1, got {num_samples}.")


@torch.no_grad()
def impute_rows(
    model, x: torch.Tensor, num_samples: int = 1000, generator: torch.Generator | None = None, **cond
) -> torch.Tensor:
    """Single imputation of rows x (B, D) (NaN: missing) by the self-normalized importance-weighted conditional mean
    with L = num_samples draws of z; (B, D), the observed cells as in x."""
    _check(x, num_samples)
    out = []
    for xb, cb in _row_chunks(x, cond, num_samples):
        _, px_z, w = _weighted_draws(model, xb, num_samples, generator, **cb)
        point = px_z.mixture_point(w)  # (b, D)
        out.append(torch.where(torch.isnan(xb), point.to(xb.dtype), xb))
    return torch.cat(out) if out else x.clone()


@torch.no_grad()
def draw_imputations(
    model,
    x: torch.Tensor,
    num_draws: int,
    num_samples: int = 1000,
    generator: torch.Generator | None = None,
    **cond,
) -> torch.Tensor:
    """Multiple imputation of rows x (B, D) by sampling importance resampling: (M, B, D) for M = num_draws, each
    draw a completion of every row (its observed cells as in x)."""
    _check(x, num_samples)
    if num_draws < 1:
        raise VaekitError(f"the number of draws must be at least 1, got {num_draws}.")
    out = []
    for xb, cb in _row_chunks(x, cond, num_samples):
        z, _, w = _weighted_draws(model, xb, num_samples, generator, **cb)
        picked = torch.multinomial(w.T, num_draws, replacement=True, generator=generator)  # (b, M) indices into L
        rows = torch.arange(xb.shape[0], device=xb.device).unsqueeze(1)  # (b, 1)
        z_m = z.transpose(0, 1)[rows, picked].transpose(0, 1)  # (L, b, ...) -> (M, b, ...)
        drawn = model.likelihood(z_m, **cb).sample(generator=generator)  # (M, b, D)
        out.append(torch.where(torch.isnan(xb), drawn.to(xb.dtype), xb))
    return torch.cat(out, 1) if out else x.unsqueeze(0).expand(num_draws, *x.shape).clone()


def draw_spread(draws: torch.Tensor, spec: DataSpec) -> torch.Tensor:
    """How much M imputations (M, B, D) of rows disagree, per cell: (B, D), 0 for an observed cell.

    Real and count columns: the standard deviation of the draws in the column's own units (a real column's
    standardization undone); binary and categorical columns: the share of draws that differ from the most frequent
    value (0: all agree; at most 1 - 1/K).
    """
    spread = draws.std(0, unbiased=False)  # (B, D)
    for j, column in enumerate(spec.columns):
        if column.type == "real":
            spread[:, j] *= column.std
        elif column.type in ("binary", "categorical"):
            k = max(2, len(column.categories))
            counts = torch.nn.functional.one_hot(draws[..., j].long().clamp(0, k - 1), k).sum(0)  # (B, K)
            spread[:, j] = 1.0 - counts.max(-1).values.to(draws.dtype) / draws.shape[0]
    return spread
