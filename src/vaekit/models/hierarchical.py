"""A hierarchical VAE with L stochastic layers and top-down inference.

The structure of the Ladder VAE (Sønderby, Raiko, Maaløe, Sønderby & Winther 2016, "Ladder Variational
Autoencoders") with the posterior cells of the top-down models that followed it (Kingma et al. 2016, IAF-VAE;
Child 2021, VDVAE): layers are numbered from the data up, z_1 is read by the decoder, z_L is the top.

    generative:  p(z_L) p(z_{L-1} | z_L) ... p(z_1 | z_2) p(x | z_1)
    inference:   a deterministic bottom-up pass d_1 = encoder(x), d_{l+1} = up_l(d_l); then, top-down,
                 q(z_L | x) from d_L, and q(z_l | z_{l+1}, x) from [d_l, h_l], where h_l = down_l(z_{l+1}) are
                 the top-down features that also give p(z_l | z_{l+1}): posterior and prior share the top-down
                 path, and the posterior sees the data through the bottom-up features.

Sønderby et al. instead combine a bottom-up Gaussian with p(z_l | z_{l+1}) by precision weighting; measured here on
MNIST (Burda et al.'s two-layer sizes, tanh, their optimiser), that posterior followed a sharpening prior and
collapsed to KL 0 in the first epoch, warm-up or not, so this module uses the concatenated cell.

The KL of each layer below the top is taken in closed form between the two Gaussians at the sampled upper
layers (a one-sample Monte Carlo estimate over those, as in Sønderby et al. and VDVAE); the top layer's is closed
form under N(0, I) and Monte Carlo under a VampPrior. A latent draw is the concatenation [z_1, ..., z_L] along the
last dimension. As `latent_vector`, `encode` and `decode` use the top layer: encode(x) is the mean of
q(z_L | x), decode(z_L) sets the lower layers to their conditional prior means.

With the widths of Burda et al. 2016's two-layer model (784-(200-200)-100-(100-100)-50) the network sizes are theirs
(plus the posterior cell's input from h_l), but the inference is top-down, not their bottom-up q(z_1|x) q(z_2|z_1).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.distributions import Distribution, constraints

from vaekit.distributions import DiagonalGaussian, gaussian_kl_per_dim
from vaekit.models.base import LatentModel, kl_closed_or_monte_carlo
from vaekit.nn.heads import GaussianHead
from vaekit.nn.layers import mlp


class Layers(NamedTuple):
    """One pass down the hierarchy, bottom layer first: each layer's q, p and draw z_l (S..., B, d_l)."""

    q: list[Distribution]  # q(z_l | z_{l+1}, x); in a pass of the prior alone, p itself
    p: list[Distribution]  # p(z_l | z_{l+1}); the top: the prior p(z_L)
    z: list[torch.Tensor]


class HierarchicalVAE(LatentModel):
    """Ladder VAE on any encoder/decoder body (MLP or conv): the body maps x <-> the bottom layer.

    Args:
        encoder: x (B, C, H, W) -> features d_1 (B, F) with `out_features`.
        decoder: z_1 (..., dims[0]) -> distribution parameters (..., C, H, W).
        likelihood_head: parameters -> p(x|z_1).
        dims: sizes of the stochastic layers, bottom first (at least 2).
        hidden: widths of the MLPs between consecutive layers, bottom-up (d_l -> d_{l+1}) and top-down
            (z_{l+1} -> the parameters of p(z_l | z_{l+1})).
        activation: their non-linearity.
        top_prior: a module returning p(z_L) given the map x -> q(z_L|x) (vaekit.models.priors).
        data_shape: (C, H, W).
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        likelihood_head: nn.Module,
        dims: list[int],
        hidden: list[int],
        activation: str,
        top_prior: nn.Module,
        data_shape: tuple[int, int, int],
    ) -> None:
        super().__init__()
        if len(dims) < 2:
            raise ValueError(f"a hierarchical VAE needs at least 2 stochastic layers, got dims {dims}")
        self.dims = list(dims)
        self.data_shape = tuple(data_shape)
        self.encoder = encoder
        width = hidden[-1] if hidden else None
        features = [encoder.out_features] + [width or encoder.out_features] * (len(dims) - 1)  # F of d_1..d_L
        self.up = nn.ModuleList(
            mlp([features[i], *hidden], activation, final_activation=True) for i in range(len(dims) - 1)
        )
        self.top_head = GaussianHead(features[-1], dims[-1])  # q(z_L | x) from d_L
        self.down = nn.ModuleList(
            mlp([dims[i + 1], *hidden], activation, final_activation=True) for i in range(len(dims) - 1)
        )
        down_features = [width or dims[i + 1] for i in range(len(dims) - 1)]  # of h_l = down_l(z_{l+1})
        self.down_heads = nn.ModuleList(GaussianHead(down_features[i], dims[i]) for i in range(len(dims) - 1))
        # q(z_l | z_{l+1}, x) from [d_l, h_l]: the bottom-up features and the top-down ones the prior reads
        self.posterior_heads = nn.ModuleList(
            GaussianHead(features[i] + down_features[i], dims[i]) for i in range(len(dims) - 1)
        )
        self.top_prior = top_prior
        self.decoder = decoder
        self.likelihood_head = likelihood_head

    @property
    def latent_dim(self) -> int:
        """The size of the latent vector `encode` returns: the top layer's."""
        return self.dims[-1]

    @property
    def layer_dims(self) -> list[int]:
        return list(self.dims)

    # The passes.

    def bottom_up(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The deterministic bottom-up features d_1, ..., d_L of x, bottom first, each (B, F_l)."""
        d = [self.encoder(x)]  # (B, F)
        for up in self.up:
            d.append(up(d[-1]))
        return d

    def top_posterior(self, x: torch.Tensor) -> DiagonalGaussian:
        """q(z_L | x), the VampPrior's map from pseudo-inputs to the top layer."""
        return DiagonalGaussian(*self.top_head(self.bottom_up(x)[-1]))

    def descend(
        self,
        bottom_up: list[torch.Tensor] | None,
        sample_shape: torch.Size | tuple = (),
        generator: torch.Generator | None = None,
        given: list[torch.Tensor | None] | None = None,
        use_mean: bool = False,
    ) -> Layers:
        """One top-down pass: the posterior's (with `bottom_up`) or the prior's (None).

        Layer l's draw is given[l] when given, else the mean of its q when `use_mean`, else a reparameterized
        draw (the top one of shape sample_shape + batch; the lower ones follow the upper draws' shape).
        """
        num = len(self.dims)
        q: list = [None] * num
        p: list = [None] * num
        z: list = [None] * num
        for level in reversed(range(num)):
            if level == num - 1:
                p[level] = self.top_prior(self.top_posterior)
                h = None
            else:
                h = self.down[level](z[level + 1])  # (S..., B, F')
                p[level] = DiagonalGaussian(*self.down_heads[level](h))
            if bottom_up is None:
                q[level] = p[level]
            elif level == num - 1:
                q[level] = DiagonalGaussian(*self.top_head(bottom_up[level]))
            else:
                d = bottom_up[level].expand(*h.shape[:-1], bottom_up[level].shape[-1])  # (S..., B, F_l)
                q[level] = DiagonalGaussian(*self.posterior_heads[level](torch.cat([d, h], dim=-1)))
            if given is not None and given[level] is not None:
                z[level] = given[level]
            elif use_mean:
                z[level] = q[level].mean
            elif level == num - 1:
                z[level] = _draw(q[level], sample_shape, generator)
            else:
                z[level] = _draw(q[level], (), generator)
        return Layers(q, p, z)

    def split(self, z: torch.Tensor) -> list[torch.Tensor]:
        """[z_1, ..., z_L] from a concatenated draw (..., sum(dims))."""
        return list(z.split(self.dims, dim=-1))

    # The contract.

    def posterior(self, x: torch.Tensor) -> HierarchicalPosterior:
        """q(z_1, ..., z_L | x), the top-down posterior; its draws are (S..., B, sum(dims))."""
        return HierarchicalPosterior(self, self.bottom_up(x))

    def prior(self) -> HierarchicalPrior:
        """p(z_1, ..., z_L) = p(z_L) prod_l p(z_l | z_{l+1})."""
        return HierarchicalPrior(self)

    def likelihood(self, z: torch.Tensor) -> Distribution:
        """p(x | z_1) for a concatenated draw z (..., sum(dims)): batch shape (...)."""
        return self.likelihood_head(self.decoder(z[..., : self.dims[0]]))

    def kl_per_layer(self, qz_x: HierarchicalPosterior, z: torch.Tensor) -> torch.Tensor:
        """KL of each layer at the draws z (S, B, sum(dims)), averaged over the S draws; (B, L), bottom first.

        Below the top: KL(q(z_l | z_{l+1}, x) || p(z_l | z_{l+1})) in closed form at the drawn z_{l+1}; the top:
        KL(q(z_L|x) || p(z_L)) in closed form where known, else by Monte Carlo at the drawn z_L.
        """
        layers = qz_x.layers_at(z)
        top = len(self.dims) - 1
        kls = [gaussian_kl_per_dim(layers.q[i], layers.p[i]).sum(-1).mean(0) for i in range(top)]  # (S, B) -> (B,)
        kls.append(kl_closed_or_monte_carlo(layers.q[top], layers.p[top], layers.z[top]))
        return torch.stack(kls, dim=-1)

    def kl(self, qz_x: HierarchicalPosterior, z: torch.Tensor, **cond) -> torch.Tensor:
        return self.kl_per_layer(qz_x, z).sum(-1)

    def log_prior_ratio(self, qz_x: HierarchicalPosterior, z: torch.Tensor, **cond) -> torch.Tensor:
        """sum_l log p(z_l | z_{l+1}) - log q(z_l | z_{l+1}, x) at the draws z (S, B, sum(dims)); (S, B)."""
        layers = qz_x.layers_at(z)
        return sum(p.log_prob(zl) - q.log_prob(zl) for q, p, zl in zip(*layers, strict=True))

    # Uses through the top layer.

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The mean of q(z_L | x): (B, dims[-1])."""
        return self.top_posterior(x).mean

    @torch.no_grad()
    def decode(self, z_top: torch.Tensor) -> torch.Tensor:
        """Mean of p(x | z_1) with z_L = z_top (N, dims[-1]) and each lower layer at its conditional prior mean."""
        given = [None] * (len(self.dims) - 1) + [z_top]
        layers = self.descend(None, given=given, use_mean=True)
        return self.likelihood(layers.z[0]).mean


def _draw(dist: Distribution, sample_shape, generator: torch.Generator | None) -> torch.Tensor:
    """A reparameterized draw where the distribution has one, else a plain one (the VampPrior's mixture)."""
    if dist.has_rsample:
        return dist.rsample(sample_shape, generator=generator)
    return dist.sample(sample_shape, generator=generator)


class HierarchicalPosterior(Distribution):
    """q(z_1, ..., z_L | x) over concatenated draws (event shape (sum(dims),)), batch shape (B,).

    The pass that draws z also yields every layer's q and p; the latest one is kept, so that the KL and the
    importance weights at those draws need no second pass (any other z is evaluated with a fresh pass).
    """

    arg_constraints: dict = {}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, model: HierarchicalVAE, bottom_up: list[torch.Tensor]) -> None:
        self.model = model
        self.bottom_up = bottom_up
        self._last: tuple[torch.Tensor, Layers] | None = None
        batch = bottom_up[0].shape[:-1]
        super().__init__(batch, torch.Size([sum(model.dims)]), validate_args=False)

    def rsample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        layers = self.model.descend(self.bottom_up, sample_shape, generator)
        z = torch.cat(layers.z, dim=-1)  # (S..., B, sum(dims))
        self._last = (z, layers)
        return z

    def sample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self.rsample(sample_shape, generator)

    def layers_at(self, z: torch.Tensor) -> Layers:
        """Each layer's q, p and z at the concatenated draw z."""
        if self._last is not None and self._last[0] is z:
            return self._last[1]
        return self.model.descend(self.bottom_up, given=self.model.split(z))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        layers = self.layers_at(z)
        return sum(q.log_prob(zl) for q, zl in zip(layers.q, layers.z, strict=True))

    @property
    def mean(self) -> torch.Tensor:
        """The draw with every layer at its conditional mean, top down (the mode path, not E_q[z] of the joint)."""
        return torch.cat(self.model.descend(self.bottom_up, use_mean=True).z, dim=-1)


class HierarchicalPrior(Distribution):
    """p(z_L) prod_l p(z_l | z_{l+1}) over concatenated draws (event shape (sum(dims),)), ancestral sampling."""

    arg_constraints: dict = {}
    support = constraints.real_vector

    def __init__(self, model: HierarchicalVAE) -> None:
        self.model = model
        super().__init__(torch.Size(), torch.Size([sum(model.dims)]), validate_args=False)

    def sample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat(self.model.descend(None, sample_shape, generator).z, dim=-1)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        layers = self.model.descend(None, given=self.model.split(z))
        return sum(p.log_prob(zl) for p, zl in zip(layers.p, layers.z, strict=True))

    @property
    def mean(self) -> torch.Tensor:
        return torch.cat(self.model.descend(None, use_mean=True).z, dim=-1)
