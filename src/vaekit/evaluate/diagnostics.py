"""Posterior-collapse diagnostics: KL per latent dimension and active units."""

from __future__ import annotations

import torch


def active_units(posterior_means: torch.Tensor, threshold: float = 0.01) -> tuple[int, torch.Tensor]:
    """Burda et al. 2016: dimension d is active when Cov_x(E_q[z_d|x]) > threshold.

    posterior_means: (N, D), the posterior means of N examples. Returns (count, per-dimension variance (D,)).
    """
    variance = posterior_means.double().var(0, unbiased=True)  # (D,)
    return int((variance > threshold).sum()), variance
