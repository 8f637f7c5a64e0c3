"""The model contract: what every latent-variable model of vaekit provides, and what it may declare beyond it.

A model is its generative structure and nothing else (no loss, no step counter):

    posterior(x, **cond) -> Distribution      q(z|x); a hierarchical model: the joint over all its layers
    prior(**cond) -> Distribution             p(z): N(0, I), a VampPrior mixture, a top-down hierarchy...
    likelihood(z, **cond) -> Distribution     p(x|z); log_prob(x) has shape (B,) (z (S, B, ...) gives (S, B))
    kl(qz_x, z, **cond) -> (B,)               KL(q(z|x) || p(z)): in closed form where
                                              torch.distributions.kl_divergence knows the pair, otherwise the
                                              Monte Carlo estimate mean_s [log q(z_s|x) - log p(z_s)] at the draws z
    log_prior_ratio(qz_x, z, **cond) -> (S, B)  log p(z) - log q(z|x) at the draws z (importance weights)

`cond` holds what a conditional model is conditioned on (the conditional VAE: `y`, the labels (B,)); other
models take none. Abilities beyond the contract are declared by name in the model's registry entry (see
`CAPABILITIES`) and asked for with `require`, never guessed from attributes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution, kl_divergence

from vaekit.errors import VaekitError

CAPABILITIES = {
    "latent_vector": "encode(x) -> (B, D) posterior means and decode(z (N, D)) -> images: interpolation, traversals",
    "kl_per_dim": "kl_per_dim(qz_x) -> (B, D), closed form: free bits per dimension, KL charts, active-unit reports",
    "layers": "kl_per_layer(qz_x, z) -> (B, L) and layer_dims: free bits per layer, KL per layer",
    "labels": "conditioned on class labels y (B,): training data need labels; sample takes y",
    "codes": "encode_codes(x) -> (B, h, w) int64 code maps and decode_codes(codes): a discrete latent grid",
    "gaussian_posterior": "posterior(x) is one DiagonalGaussian over (B, D): I(x; z) of He et al. 2019",
    "networks": (
        "inference_parameters() (those of q(z|x)) and generative_modules() (those of p(x|z)): aggressive inference "
        "updates (He et al. 2019), re-initializing the decoder after autoencoder pretraining (Li et al. 2019)"
    ),
}


def require(capabilities: frozenset[str], name: str, what: str, model_type: str) -> None:
    """Raise a VaekitError saying `what` needs capability `name`, which model.type `model_type` lacks."""
    if name not in capabilities:
        raise VaekitError(
            f"{what} needs a model with {name} ({CAPABILITIES[name]}), and model.type={model_type} with this "
            f"config has only: {', '.join(sorted(capabilities)) or 'none'}."
        )


def kl_closed_or_monte_carlo(qz_x: Distribution, pz: Distribution, z: torch.Tensor) -> torch.Tensor:
    """KL(q || p) per example, (B,): closed form when kl_divergence knows the pair, else from the draws z (S, B, D).

    The Monte Carlo estimate mean_s [log q(z_s) - log p(z_s)] is unbiased; it uses the same draws as the
    reconstruction term, as in Kingma & Welling 2014's estimator B when no closed form exists.
    """
    try:
        return kl_divergence(qz_x, pz)
    except NotImplementedError:
        return (qz_x.log_prob(z) - pz.log_prob(z)).mean(0)


class LatentModel(nn.Module):
    """Shared behaviour of the models on the contract: the default KL and importance ratio, and the uses.

    Subclasses define posterior, prior and likelihood (and `data_shape`); the uses below follow from them.
    """

    data_shape: tuple[int, int, int]

    def posterior(self, x: torch.Tensor, **cond) -> Distribution:
        raise NotImplementedError

    def prior(self, **cond) -> Distribution:
        raise NotImplementedError

    def likelihood(self, z: torch.Tensor, **cond) -> Distribution:
        raise NotImplementedError

    def kl(self, qz_x: Distribution, z: torch.Tensor, **cond) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per example, (B,): closed form where known, else Monte Carlo at the draws z."""
        return kl_closed_or_monte_carlo(qz_x, self.prior(**cond), z)

    def log_prior_ratio(self, qz_x: Distribution, z: torch.Tensor, **cond) -> torch.Tensor:
        """log p(z) - log q(z|x) at the draws z (S, B, ...); shape (S, B)."""
        return self.prior(**cond).log_prob(z) - qz_x.log_prob(z)

    # Uses: generation, features, reconstruction. Each random draw comes from the given generator.

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None, **cond) -> torch.Tensor:
        """Means of p(x|z) for z ~ p(z): (num, C, H, W)."""
        z = self.prior(**cond).sample((num,), generator=generator)  # (num, ...)
        return self.likelihood(z, **cond).mean

    @torch.no_grad()
    def draw(self, num: int, generator: torch.Generator | None = None, **cond) -> torch.Tensor:
        """Draws x ~ p(x|z) for z ~ p(z): (num, *event_shape) (synthetic rows of a table)."""
        z = self.prior(**cond).sample((num,), generator=generator)  # (num, ...)
        return self.likelihood(z, **cond).sample(generator=generator)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, **cond) -> torch.Tensor:
        """Posterior means E_q[z|x] (the features): (B, D)."""
        return self.posterior(x, **cond).mean

    @torch.no_grad()
    def decode(self, z: torch.Tensor, **cond) -> torch.Tensor:
        """Mean of p(x|z) for latent vectors z (N, D), as `encode` returns them: (N, C, H, W)."""
        return self.likelihood(z, **cond).mean

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, generator: torch.Generator | None = None, **cond) -> torch.Tensor:
        """Mean of p(x|z) at the posterior mean of z, or at a posterior draw when a generator is given."""
        qz_x = self.posterior(x, **cond)
        z = qz_x.mean if generator is None else qz_x.sample(generator=generator)
        return self.likelihood(z, **cond).mean
