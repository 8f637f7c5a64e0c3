"""The evaluation report of a model on the latent-variable contract on a data split: `vaekit evaluate` writes it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from vaekit.evaluate.diagnostics import MI_BATCH_SIZE, latent_diagnostics
from vaekit.evaluate.likelihood import bits_per_dim, fusing_pays, iw_log_likelihood
from vaekit.objectives.elbo import elbo_terms
from vaekit.train.loop import evaluate_batches


@torch.no_grad()
def likelihood_report(
    model,
    x: torch.Tensor,
    *,
    iw_samples: int = 5000,
    batch_size: int = 100,
    generator: torch.Generator | None = None,
    transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    progress: Callable[[int], None] | None = None,
    cond: dict[str, torch.Tensor] | None = None,
    capabilities: frozenset[str] = frozenset(),
    diagnostics_batch_size: int = MI_BATCH_SIZE,
) -> dict:
    """ELBO, importance-weighted log p(x) and their gap, in nats per example, with what the model's capabilities add.

    x: (N, C, H, W); cond: a conditional model's labels {"y": (N,)} (then the estimates are of log p(x|y)).
    With `kl_per_dim`: the KL of each latent dimension; with `layers`: the KL of each stochastic layer, bottom first;
    and vaekit.evaluate.diagnostics.latent_diagnostics: with `latent_vector` active units of the posterior means
    (Burda et al. 2016), with `gaussian_posterior` the mutual information I(x; z) (He et al. 2019) over batches of
    `diagnostics_batch_size` examples (as in the training log, so that the two agree).
    `transform` (e.g. a fresh binarization, dequantization noise) is applied to each batch with `generator`.
    `bits_per_dim` is -log_likelihood / (D ln 2), right for a likelihood that is a probability of the data's values;
    `PixelMeasure.restate` (vaekit.evaluate.likelihood) turns it into what it honestly is for the others.
    `progress(n)` is called with the number of examples done after each batch.
    """
    model.eval()
    start = time.perf_counter()
    fused = fusing_pays(x.numel() * iw_samples)

    def per_example(xb: torch.Tensor, **cb) -> dict[str, torch.Tensor]:
        if transform is not None:
            xb = transform(xb, generator)
        terms = elbo_terms(model, xb, 1, generator, **cb)
        parts = {"elbo": terms.elbo, "reconstruction": terms.log_px_z, "kl": terms.kl}
        if "kl_per_dim" in capabilities:
            parts["kl_per_dim"] = model.kl_per_dim(terms.qz_x)  # (B, D)
        if "layers" in capabilities:
            parts["kl_per_layer"] = model.kl_per_layer(terms.qz_x, terms.z)  # (B, L)
        parts["log_likelihood"] = iw_log_likelihood(model, xb, iw_samples, generator, fused=fused, **cb)
        if progress:
            progress(xb.shape[0])
        return parts

    n = x.shape[0]
    report: dict = evaluate_batches(per_example, x, batch_size, cond=cond)
    report.update(
        elbo_gap=report["log_likelihood"] - report["elbo"],
        bits_per_dim=bits_per_dim(report["log_likelihood"], math.prod(x.shape[1:])),
        num_examples=n,
        iw_samples=iw_samples,
    )
    diagnostics_generator = None  # a copy of the stream: the draws after the report's stay what they were
    if generator is not None:
        diagnostics_generator = torch.Generator(device=generator.device)
        diagnostics_generator.set_state(generator.get_state())
    report.update(
        latent_diagnostics(
            model,
            x,
            capabilities,
            batch_size=diagnostics_batch_size,
            generator=diagnostics_generator,
            transform=transform,
            cond=cond,
        )
    )
    if "active_units" not in report and getattr(model, "latent_dim", None) == 0:
        report["active_units"] = 0  # a model without a latent (the language model)
    if "layers" in capabilities:
        report["layer_dims"] = model.layer_dims
    if cond:
        report["conditioned_on"] = sorted(cond)  # the likelihood is p(x | these)
    report["seconds"] = time.perf_counter() - start
    return report


def summary_rows(report: dict, summary: tuple[str, ...]) -> list[tuple[str, object]]:
    """The `summary` keys of an evaluation report and their values, as `vaekit evaluate` and the HTML report state
    them: where the likelihood gives no bits/dim (a density on continuous data, a Bernoulli on non-binary pixels),
    `nats_per_dim` stands in its place, and `per_dim_unit` says what the per-dimension number is."""
    rows = []
    for key in summary:
        if key == "bits_per_dim" and key not in report:
            key = "nats_per_dim" if "nats_per_dim" in report else "perplexity"  # a sequence's per-token unit
        if key in report:
            rows.append((key, report[key]))
    if "per_dim_unit" in report:
        rows.append(("per dimension", report["per_dim_unit"]))
    return rows
