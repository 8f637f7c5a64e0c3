"""Generator-driven uses of a trained VAE beyond sample/encode/reconstruct: interpolation, latent traversals."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vaekit.errors import VaekitError


@torch.no_grad()
def interpolate(model, x_a: torch.Tensor, x_b: torch.Tensor, steps: int) -> torch.Tensor:
    """Decoded means along the straight line between the posterior means of x_a and x_b (each (C, H, W)).

    Returns (steps, C, H, W), the first and last decoded from the two endpoints' latent means.
    """
    z = model.encode(torch.stack([x_a, x_b]))  # (2, D)
    if not z.is_floating_point():
        raise VaekitError("interpolation needs a continuous latent space; this model encodes to discrete codes.")
    t = torch.linspace(0, 1, steps, device=z.device, dtype=z.dtype).unsqueeze(1)  # (K, 1)
    path = (1 - t) * z[0] + t * z[1]  # (K, D)
    return model.decode(path)


@torch.no_grad()
def traverse(model, x: torch.Tensor, dims: Sequence[int], steps: int, radius: float) -> torch.Tensor:
    """Latent traversals of one image x (C, H, W): decoded means as one latent dimension sweeps [-radius, radius].

    Row r starts from the posterior mean of x and sets dimension dims[r] to each of `steps` evenly spaced
    values from -radius to radius (the prior's range, as in Higgins et al. 2017), the other dimensions held.
    Returns (R, K, C, H, W) for R = len(dims), K = steps.
    """
    mu = model.encode(x.unsqueeze(0))[0]  # (D,)
    values = torch.linspace(-radius, radius, steps, device=mu.device, dtype=mu.dtype)  # (K,)
    rows = torch.arange(len(dims), device=mu.device)[:, None]  # (R, 1)
    cols = torch.arange(steps, device=mu.device)[None, :]  # (1, K)
    dim = torch.as_tensor(list(dims), device=mu.device, dtype=torch.long)[:, None]  # (R, 1)
    z = mu.expand(len(dims), steps, -1).clone()  # (R, K, D)
    z[rows, cols, dim] = values  # z[r, k, dims[r]] = values[k]
    images = model.decode(z.flatten(0, 1))  # (R K, C, H, W)
    return images.view(len(dims), steps, *images.shape[1:])


def dims_by_kl(kl_per_dim: torch.Tensor, dims: Sequence[int] | None = None) -> list[int]:
    """`dims` (default: every dimension) ordered by decreasing KL, the most informative first; kl_per_dim (D,)."""
    dims = range(kl_per_dim.shape[0]) if dims is None else dims
    return sorted(dims, key=lambda d: -float(kl_per_dim[d]))
