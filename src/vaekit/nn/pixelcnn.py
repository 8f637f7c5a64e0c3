"""A gated PixelCNN over maps of discrete codes: the autoregressive prior of the VQ-VAE.

van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu 2016, "Conditional Image Generation with
PixelCNN Decoders". p(c) = prod_i p(c_i | c_<i) in raster order over an (H, W) map of K categories. Each layer
has a vertical stack, which sees whole rows above (through a (k//2 + 1) x k convolution padded only at the top,
shifted down one row before it reaches the horizontal stack), and a horizontal stack, which sees the current
row up to the current position. Together they cover every earlier position: no blind spot above-right, as a
masked 3x3 convolution would have. The first layer excludes the current position (mask A), later ones include
it (mask B); each uses the gated activation tanh(a) * sigmoid(b).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _shift_down(x: torch.Tensor) -> torch.Tensor:
    """Row i takes row i-1's values (zeros in row 0): (B, C, H, W) -> (B, C, H, W)."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1, :]


def _shift_right(x: torch.Tensor) -> torch.Tensor:
    """Column j takes column j-1's values (zeros in column 0): (B, C, H, W) -> (B, C, H, W)."""
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


def _gate(x: torch.Tensor) -> torch.Tensor:
    """tanh(a) * sigmoid(b) for x = [a, b] along channels: (B, 2C, H, W) -> (B, C, H, W)."""
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated layer: (v, h) -> (v', h'), each (B, C, H, W).

    v'[i, j] depends on rows <= i of the input (any column within reach); h'[i, j] on rows < i and on row i up
    to column j (mask B) or up to column j-1 (mask A, the first layer).
    """

    def __init__(self, in_channels: int, channels: int, kernel_size: int, mask_type: str) -> None:
        super().__init__()
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', not {mask_type!r}")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, not {kernel_size}")
        self.reach = kernel_size // 2
        self.mask_type = mask_type
        self.vertical = nn.Conv2d(in_channels, 2 * channels, kernel_size=(self.reach + 1, kernel_size))
        self.horizontal = nn.Conv2d(in_channels, 2 * channels, kernel_size=(1, self.reach + 1))
        self.vertical_to_horizontal = nn.Conv2d(2 * channels, 2 * channels, kernel_size=1)
        self.horizontal_out = nn.Conv2d(channels, channels, kernel_size=1)
        # The first layer's input holds the current position, so adding it back would leak it.
        self.residual = mask_type == "B" and in_channels == channels

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r = self.reach
        v_pre = self.vertical(F.pad(v, (r, r, r, 0)))  # (B, 2C, H, W): rows i-r..i, columns j-r..j+r
        h_pre = self.horizontal(F.pad(h, (r, 0, 0, 0)))  # (B, 2C, H, W): row i, columns j-r..j
        if self.mask_type == "A":
            h_pre = _shift_right(h_pre)  # columns j-r-1..j-1
        h_pre = h_pre + self.vertical_to_horizontal(_shift_down(v_pre))  # plus rows strictly above
        h_out = self.horizontal_out(_gate(h_pre))  # (B, C, H, W)
        return _gate(v_pre), (h + h_out if self.residual else h_out)


class GatedPixelCNN(nn.Module):
    """Autoregressive distribution over code maps (B, H, W) with values in {0, ..., K-1}.

    Args:
        num_codes: K, the number of categories (the VQ-VAE's codebook size).
        hidden_channels: channels of both stacks.
        num_layers: gated layers, the first with mask A (15 in the paper's image experiments).
        kernel_size: the odd kernel width of the mask-B layers.
        first_kernel_size: the odd kernel width of the mask-A layer.
        embedding_dim: size of the learned embedding of each code; `hidden_channels` when not given.
    """

    def __init__(
        self,
        num_codes: int,
        hidden_channels: int = 64,
        num_layers: int = 8,
        kernel_size: int = 3,
        first_kernel_size: int = 7,
        embedding_dim: int | None = None,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, not {num_layers}")
        self.num_codes = num_codes
        embedding_dim = embedding_dim or hidden_channels
        self.embedding = nn.Embedding(num_codes, embedding_dim)
        self.layers = nn.ModuleList(
            [GatedLayer(embedding_dim, hidden_channels, first_kernel_size, "A")]
            + [GatedLayer(hidden_channels, hidden_channels, kernel_size, "B") for _ in range(num_layers - 1)]
        )
        self.output = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(hidden_channels, hidden_channels, kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(hidden_channels, num_codes, kernel_size=1),
        )

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, H, W) int64 -> embeddings (B, E, H, W)."""
        return self.embedding(codes).permute(0, 3, 1, 2)

    def logits_from_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """Embedded codes (B, E, H, W) -> logits (B, K, H, W); logits[..., i, j] depend on positions before (i, j)."""
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h)  # 2 x (B, C, H, W)
        return self.output(h)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """Logits of p(c_i | c_<i) for every position: codes (B, H, W) -> (B, K, H, W)."""
        return self.logits_from_embeddings(self.embed(codes))

    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(codes) in nats, the sum over positions of log p(c_i | c_<i): (B, H, W) -> (B,)."""
        log_p = F.log_softmax(self(codes), dim=1)  # (B, K, H, W)
        return log_p.gather(1, codes.unsqueeze(1)).squeeze(1).sum(dim=(1, 2))

    @torch.no_grad()
    def sample(self, num: int, shape: tuple[int, int], generator: torch.Generator | None = None) -> torch.Tensor:
        """Ancestral samples, one position at a time in raster order: (num, H, W) int64.

        Each draw uses torch.multinomial with `generator` (on the model's device), so a seeded generator gives
        the same maps.
        """
        height, width = shape
        device = self.embedding.weight.device
        codes = torch.zeros(num, height, width, dtype=torch.long, device=device)
        for i in range(height):
            for j in range(width):
                # Rows below i cannot influence row i, so they need not be computed.
                logits = self(codes[:, : i + 1])[:, :, i, j]  # (num, K)
                probs = torch.softmax(logits.float(), dim=1)
                codes[:, i, j] = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return codes
