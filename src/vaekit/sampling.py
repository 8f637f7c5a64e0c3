"""Generator-driven uses of a trained VAE beyond sample/encode/reconstruct: interpolation, latent traversals."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def _repeat(cond: dict[str, torch.Tensor] | None, index: int, num: int) -> dict[str, torch.Tensor]:
    """cond's entry `index` repeated `num` times along the batch dimension."""
    return {k: v[index : index + 1].expand(num, *v.shape[1:]) for k, v in (cond or {}).items()}


@torch.no_grad()
def latent_path(
    model, x_a: torch.Tensor, x_b: torch.Tensor, steps: int, cond: dict[str, torch.Tensor] | None = None
) -> torch.Tensor:
    """`steps` evenly spaced points of the straight line between the posterior means of x_a and x_b (each one
    example, e.g. (C, H, W) or a sentence's (T,)), both ends included: (steps, D). For a model with the
    `latent_vector` capability; `cond`: the two examples' conditioning, each (2, ...). A homotopy between two
    sentences (Bowman et al. 2016) decodes this path."""
    z = model.encode(torch.stack([x_a, x_b]), **(cond or {}))  # (2, D)
    t = torch.linspace(0, 1, steps, device=z.device, dtype=z.dtype).unsqueeze(1)  # (K, 1)
    return (1 - t) * z[0] + t * z[1]  # (K, D)


def property_path(z0: torch.Tensor, direction: torch.Tensor, steps: int, step_size: float) -> torch.Tensor:
    """`steps` points z0 + k * step_size * direction / |direction|, k = 0 .. steps - 1: a walk in latent space along
    the gradient of a property predicted from z (Gomez-Bombarelli et al. 2018, "Automatic Chemical Design Using a
    Data-Driven Continuous Representation of Molecules", section on optimization in latent space). For a linear
    predictor f(z) = w.z + b the gradient is w everywhere, so the walk is a straight line on which f rises by
    step_size * |w| per step. z0: (D,) or (N, D); direction: (D,). Returns (steps, D) or (steps, N, D)."""
    if steps < 1 or not step_size > 0:
        raise ValueError(f"a property path needs steps >= 1 and step_size > 0, got {steps} and {step_size}")
    norm = direction.norm()
    if not torch.isfinite(norm) or norm == 0:
        raise ValueError("the property's gradient direction is zero or not finite: the predictor does not depend on z")
    unit = (direction / norm).to(z0.dtype)  # (D,)
    k = torch.arange(steps, device=z0.device, dtype=z0.dtype).reshape(steps, *([1] * z0.dim()))  # (K, 1[, 1])
    return z0 + k * step_size * unit  # (K, D) or (K, N, D)


@torch.no_grad()
def interpolate(
    model, x_a: torch.Tensor, x_b: torch.Tensor, steps: int, cond: dict[str, torch.Tensor] | None = None
) -> torch.Tensor:
    """Decoded means along the straight line between the posterior means of x_a and x_b (each (C, H, W)).

    For a model with the `latent_vector` capability. `cond`: the two images' conditioning, each (2, ...) (a
    conditional model's labels); the path is decoded with the first image's. Returns (steps, C, H, W), the
    first and last decoded from the two endpoints' latent means.
    """
    path = latent_path(model, x_a, x_b, steps, cond)  # (K, D)
    return model.decode(path, **_repeat(cond, 0, steps))


@torch.no_grad()
def traverse(
    model,
    x: torch.Tensor,
    dims: Sequence[int],
    steps: int,
    radius: float,
    cond: dict[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Latent traversals of one image x (C, H, W): decoded means as one latent dimension sweeps [-radius, radius].

    Row r starts from the posterior mean of x and sets dimension dims[r] to each of `steps` evenly spaced
    values from -radius to radius (the prior's range, as in Higgins et al. 2017), the other dimensions held.
    `cond`: the image's conditioning, each (1, ...). Returns (R, K, C, H, W) for R = len(dims), K = steps.
    """
    mu = model.encode(x.unsqueeze(0), **(cond or {}))[0]  # (D,)
    values = torch.linspace(-radius, radius, steps, device=mu.device, dtype=mu.dtype)  # (K,)
    rows = torch.arange(len(dims), device=mu.device)[:, None]  # (R, 1)
    cols = torch.arange(steps, device=mu.device)[None, :]  # (1, K)
    dim = torch.as_tensor(list(dims), device=mu.device, dtype=torch.long)[:, None]  # (R, 1)
    z = mu.expand(len(dims), steps, -1).clone()  # (R, K, D)
    z[rows, cols, dim] = values  # z[r, k, dims[r]] = values[k]
    images = model.decode(z.flatten(0, 1), **_repeat(cond, 0, len(dims) * steps))  # (R K, C, H, W)
    return images.view(len(dims), steps, *images.shape[1:])


def dims_by_kl(kl_per_dim: torch.Tensor, dims: Sequence[int] | None = None) -> list[int]:
    """`dims` (default: every dimension) ordered by decreasing KL, the most informative first; kl_per_dim (D,)."""
    dims = range(kl_per_dim.shape[0]) if dims is None else dims
    return sorted(dims, key=lambda d: -float(kl_per_dim[d]))
