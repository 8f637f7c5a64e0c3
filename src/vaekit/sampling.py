"""Generator-driven uses of a trained VAE beyond sample/encode/reconstruct: interpolation."""

from __future__ import annotations

import torch


@torch.no_grad()
def interpolate(model, x_a: torch.Tensor, x_b: torch.Tensor, steps: int) -> torch.Tensor:
    """Decoded means along the straight line between the posterior means of x_a and x_b (each (C, H, W)).

    Returns (steps, C, H, W), the first and last decoded from the two endpoints' latent means.
    """
    z = model.encode(torch.stack([x_a, x_b]))  # (2, D)
    t = torch.linspace(0, 1, steps, device=z.device, dtype=z.dtype).unsqueeze(1)  # (K, 1)
    path = (1 - t) * z[0] + t * z[1]  # (K, D)
    return model.decode(path)
