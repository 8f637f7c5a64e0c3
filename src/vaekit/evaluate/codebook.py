"""VQ-VAE evaluation: codebook usage, reconstruction error, the prior's NLL of the codes, bits/dim of the two stages.

With a deterministic encoder q(c|x) is a point mass at c*(x), so the ELBO is log p(x|c*) + log p(c*) (the entropy
of q is 0) and an importance-weighted estimate with any number of samples equals it. Its negative, divided by
D ln 2, is the bits/dim the VQ-VAE paper reports: an upper bound on -log2 p(x) per dimension.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from vaekit.evaluate.likelihood import bits_per_dim
from vaekit.models.quantizer import code_perplexity
from vaekit.objectives.vq import vq_terms


def codebook_usage(counts: torch.Tensor) -> dict[str, float | int]:
    """Usage of a codebook from the number of positions assigned to each code, counts (K,).

    Returns codebook_size (K), codebook_perplexity (exp of the usage entropy: K when every code is used equally,
    1 when one code takes everything) and dead_codes (codes no position was assigned to).
    """
    return {
        "codebook_size": int(counts.numel()),
        "codebook_perplexity": float(code_perplexity(counts)),
        "dead_codes": int((counts == 0).sum()),
    }


@torch.no_grad()
def vq_per_example(model, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """log p(x|z_q), codebook and commitment losses for each example of x (the model in eval mode); each (B,)."""
    terms = vq_terms(model, x)
    return {
        "reconstruction": terms.log_px_z,
        "codebook_loss": terms.codebook_loss,
        "commitment_loss": terms.commitment_loss,
    }


@torch.no_grad()
def vq_report(
    model,
    x: torch.Tensor,
    *,
    iw_samples: int = 1,
    batch_size: int = 100,
    generator: torch.Generator | None = None,
    transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    progress: Callable[[int], None] | None = None,
    cond: dict[str, torch.Tensor] | None = None,
    capabilities: frozenset[str] = frozenset(),
) -> dict:
    """The report of a VQ-VAE on x (N, C, H, W), in nats per example unless named otherwise.

    reconstruction: log p(x|z_q); reconstruction_mse: squared error of the decoded mean per dimension;
    prior_nll: -log p(c) under the model's code prior (`prior` says which: pixelcnn, or uniform before
    `vaekit train-prior`); elbo = reconstruction - prior_nll; bits_per_dim = -elbo / (D ln 2); and the codebook
    usage of the split's codes (codebook_usage). `iw_samples` is accepted for a common signature and unused:
    q(c|x) is a point mass; so are `cond` and `capabilities` (a VQ-VAE is unconditional). `transform` (e.g. a
    fresh binarization) is applied to each batch with `generator`.
    """
    model.eval()
    start = time.perf_counter()
    sums = {"reconstruction": 0.0, "reconstruction_mse": 0.0, "prior_nll": 0.0}
    counts = torch.zeros(model.num_codes, dtype=torch.int64, device=x.device)
    for xb in x.split(batch_size):
        if transform is not None:
            xb = transform(xb, generator)
        q = model.quantize(xb)
        px_z = model.likelihood(q.z_q)
        sums["reconstruction"] += px_z.log_prob(xb).sum().item()
        sums["reconstruction_mse"] += (px_z.mean - xb).pow(2).flatten(1).mean(1).sum().item()
        sums["prior_nll"] -= model.code_log_prob(q.codes).sum().item()
        counts += q.usage
        if progress:
            progress(xb.shape[0])
    n = x.shape[0]
    report: dict = {k: v / n for k, v in sums.items()}
    report["elbo"] = report["reconstruction"] - report["prior_nll"]
    report.update(
        bits_per_dim=bits_per_dim(report["elbo"], math.prod(x.shape[1:])),
        prior=model.prior_name,
        **codebook_usage(counts),
        num_examples=n,
        seconds=time.perf_counter() - start,
    )
    return report
