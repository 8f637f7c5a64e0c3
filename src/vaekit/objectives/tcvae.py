"""beta-TCVAE (Chen et al. 2018, "Isolating sources of disentanglement in variational autoencoders").

The KL term of the ELBO, averaged over the data, splits into the index-code mutual information, the total
correlation TC = KL(q(z) || prod_d q(z_d)) of the aggregate posterior q(z), and the dimension-wise KL to the
prior. beta-TCVAE weights only the TC by beta (the other two by 1), penalising statistical dependence
between latent dimensions without squeezing the information the code carries about x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.distributions import Normal

from vaekit.config import BetaTcvaeConfig
from vaekit.distributions import DiagonalGaussian
from vaekit.errors import ConfigError
from vaekit.objectives.base import LossOutput
from vaekit.objectives.elbo import elbo_metrics, elbo_terms
from vaekit.registry import OBJECTIVES


def total_correlation(qz_x: DiagonalGaussian, z: torch.Tensor) -> torch.Tensor:
    """Minibatch-weighted sampling estimate of the total correlation of q(z), Chen et al. 2018; shape (..., B).

    qz_x: q(z|x_j) for the B examples of a batch; z (..., B, D) with z_i drawn from q(z|x_i). The aggregate
    posterior is estimated on the batch, q(z_i) ~ (1/B) sum_j q(z_i|x_j), and so is each marginal q(z_id);
    TC_i = log q(z_i) - sum_d log q(z_id). Chen et al. weight the terms by 1/(N B), N the data set's size:
    that shifts the estimate by the constant (D - 1) log N and leaves every gradient unchanged; with 1/B the
    estimate tends to the batch's own TC, about 0 when q(z) factorizes.
    """
    batch = z.shape[-2]
    components = Normal(qz_x.loc, qz_x.base_dist.scale, validate_args=False)  # batch shape (B_j, D)
    log_q = components.log_prob(z.unsqueeze(-2))  # (..., B_i, 1, D) -> (..., B_i, B_j, D): log q(z_id | x_j)
    log_qz = torch.logsumexp(log_q.sum(-1), -1) - math.log(batch)  # (..., B_i)
    log_prod_qzd = (torch.logsumexp(log_q, -2) - math.log(batch)).sum(-1)  # (..., B_i)
    return log_qz - log_prod_qzd


@dataclass
class BetaTcvae:
    """Minimise -(E_q[log p(x|z)] - KL) + (beta - 1) * TC, averaged over the batch.

    MI + TC + dimension-wise KL add up to the KL, so this weights the TC by beta and the other two by 1
    (Chen et al.'s alpha = gamma = 1); the KL is taken in closed form, the TC estimated on the batch from the
    same draws of z as the reconstruction term. Reported metrics: the plain ELBO terms and `tc`.
    """

    beta: float = 6.0
    num_samples: int = 1

    def __call__(self, model, x: torch.Tensor, *, step: int, generator: torch.Generator | None, **cond) -> LossOutput:
        terms = elbo_terms(model, x, self.num_samples, generator, **cond)
        tc = total_correlation(terms.qz_x, terms.z).mean(0)  # (L, B) -> (B,)
        loss = -terms.elbo.mean() + (self.beta - 1.0) * tc.mean()
        metrics = elbo_metrics(terms)
        metrics["tc"] = tc.mean().detach()
        return LossOutput(loss, metrics)


@OBJECTIVES.register("beta_tcvae")
def build_beta_tcvae(cfg: BetaTcvaeConfig, steps_per_epoch: int, capabilities: frozenset[str]) -> BetaTcvae:
    if "kl_per_dim" not in capabilities:
        raise ConfigError(
            "objective.name=beta_tcvae splits the KL of a factorized Gaussian posterior under the N(0, I) prior; "
            "use it with model.type=vae (or cvae) and model.prior.type=standard_normal."
        )
    return BetaTcvae(cfg.beta, cfg.num_samples)
