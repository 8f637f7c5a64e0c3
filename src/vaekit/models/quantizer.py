"""Vector quantization of encoder outputs: the discrete bottleneck of the VQ-VAE.

van den Oord, Vinyals & Kavukcuoglu 2017, "Neural Discrete Representation Learning". Each encoder output
vector z_e(x) at a position of the (H, W) map is replaced by its nearest codebook vector e_k; gradients pass
straight through to the encoder. The codebook is learned either by its own loss term ||sg[z_e] - e||^2 or,
with `ema=True`, by exponential moving averages of the vectors assigned to each code (the paper's appendix).

The quantizer holds no loss weight: it returns per-example terms and the objective combines them as
`recon + codebook + beta * commitment` (beta = 0.25 in the paper).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


class Quantized(NamedTuple):
    """What the quantizer returns; the same fields in training and evaluation and with or without EMA."""

    z_q: torch.Tensor  # (B, D, H, W) quantized vectors, with the straight-through gradient to z_e
    codes: torch.Tensor  # (B, H, W) int64 indices into the codebook
    codebook_loss: torch.Tensor  # (B,) ||sg[z_e] - e||^2 summed over D, H, W (no gradient with EMA)
    commitment_loss: torch.Tensor  # (B,) ||z_e - sg[e]||^2 summed over D, H, W
    perplexity: torch.Tensor  # () exp(entropy of this batch's code usage), between 1 and K
    usage: torch.Tensor  # (K,) int64 number of positions in this batch assigned to each code


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum `tensor` over processes in place when a process group is running; unchanged otherwise."""
    if _distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def _broadcast_from_main(tensor: torch.Tensor) -> torch.Tensor:
    """Overwrite `tensor` in place with rank 0's copy when a process group is running; unchanged otherwise."""
    if _distributed():
        dist.broadcast(tensor, src=0)
    return tensor


def code_perplexity(counts: torch.Tensor) -> torch.Tensor:
    """exp(entropy) of the code usage distribution p_k = counts_k / sum(counts); counts (K,) -> ().

    K when every code is used equally often, 1 when a single code is used (0 log 0 taken as 0).
    """
    p = counts.float() / counts.sum().clamp_min(1)  # (K,)
    return torch.exp(-torch.special.xlogy(p, p).sum())


class VectorQuantizer(nn.Module):
    """Nearest-neighbour quantization of z_e (B, D, H, W) onto a codebook of K vectors of size D.

    Args:
        num_codes: K, the number of codebook vectors.
        embedding_dim: D, the size of each vector (the encoder's output channels).
        ema: learn the codebook by exponential moving averages instead of by gradient (the codebook is then
            a buffer, updated in training mode inside `forward`, and the optimizer never sees it).
        decay: the EMA decay (0.99 in the paper), used for the codebook statistics and for the usage
            statistics that `revive_dead_codes` reads.
        epsilon: Laplace smoothing of the EMA cluster sizes (1e-5), so that rarely used codes do not divide by 0.

    In training mode `forward` also updates the usage EMA (and, with `ema`, the codebook); under
    torch.distributed these per-batch statistics are summed over processes first, so every process must call
    `forward` in training mode the same number of times. In evaluation mode `forward` changes nothing.
    """

    def __init__(
        self, num_codes: int, embedding_dim: int, ema: bool = False, decay: float = 0.99, epsilon: float = 1e-5
    ) -> None:
        super().__init__()
        self.num_codes = num_codes
        self.embedding_dim = embedding_dim
        self.ema = ema
        self.decay = decay
        self.epsilon = epsilon
        codebook = torch.empty(num_codes, embedding_dim).uniform_(-1 / num_codes, 1 / num_codes)  # (K, D)
        if ema:
            self.register_buffer("codebook", codebook)
            # N_i starts at 1 and m_i at e_i, so that e_i = m_i / N_i holds from the first step and an unused
            # code stays where it is (both decay together) instead of collapsing to 0.
            self.register_buffer("cluster_size", torch.ones(num_codes))  # (K,) N_i
            self.register_buffer("embed_sum", codebook.clone())  # (K, D) m_i
        else:
            self.codebook = nn.Parameter(codebook)
        # An EMA of the number of positions assigned to each code per batch (summed over processes); it starts
        # from the first training batch's counts.
        self.register_buffer("code_usage", torch.zeros(num_codes))  # (K,)
        self.register_buffer("usage_started", torch.tensor(False))

    # Pure maps between vectors and codes.

    @staticmethod
    def flatten(z_e: torch.Tensor) -> torch.Tensor:
        """(B, D, H, W) -> (B*H*W, D), one row per position (the layout `revive_dead_codes` takes)."""
        return z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])

    def nearest_codes(self, z_e: torch.Tensor) -> torch.Tensor:
        """Index of the nearest codebook vector (squared distance; ties go to the lower index); (B, H, W)."""
        b, _, h, w = z_e.shape
        e = self.codebook.detach()  # (K, D)
        # Distances in the codebook's precision even under autocast: near-ties are common late in training.
        with torch.no_grad(), torch.autocast(z_e.device.type, enabled=False):
            z = self.flatten(z_e.detach()).to(e.dtype)  # (N, D), N = B*H*W
            # ||z||^2 - 2 z.e + ||e||^2 as one matrix product instead of an (N, K, D) difference tensor.
            dist2 = torch.addmm((e * e).sum(1)[None, :] + (z * z).sum(1, keepdim=True), z, e.T, alpha=-2)  # (N, K)
            return dist2.argmin(dim=1).view(b, h, w)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Codebook vectors for codes (B, H, W) -> (B, D, H, W)."""
        return F.embedding(codes, self.codebook).permute(0, 3, 1, 2).contiguous()

    # Quantization, with the training-time statistics.

    def forward(self, z_e: torch.Tensor) -> Quantized:
        """Quantize z_e (B, D, H, W); see `Quantized` for the fields."""
        return self.quantize(z_e)

    def quantize(self, z_e: torch.Tensor) -> Quantized:
        """Quantize z_e (B, D, H, W); in training mode also update the usage EMA (and the EMA codebook).

        The returned vectors and losses use the codebook as it was before this call's update.
        """
        codes = self.nearest_codes(z_e)  # (B, H, W)
        e = self.lookup(codes).to(z_e.dtype)  # (B, D, H, W); carries the codebook's gradient unless ema
        codebook_loss = (z_e.detach() - e).pow(2).sum(dim=(1, 2, 3))  # (B,) moves only the codebook
        commitment_loss = (z_e - e.detach()).pow(2).sum(dim=(1, 2, 3))  # (B,) moves only the encoder
        z_q = z_e + (e - z_e).detach()  # value e, gradient d/dz_q passed unchanged to z_e
        usage = torch.bincount(codes.flatten(), minlength=self.num_codes)  # (K,)
        if self.training:
            with torch.autocast(z_e.device.type, enabled=False):  # EMA statistics in the buffers' precision
                self._update_statistics(z_e, codes)
        return Quantized(z_q, codes, codebook_loss, commitment_loss, code_perplexity(usage), usage)

    @torch.no_grad()
    def _update_statistics(self, z_e: torch.Tensor, codes: torch.Tensor) -> None:
        """Sum this batch's counts n_i (and, with EMA, sums of assigned z_e) over processes, then update."""
        ref = self.code_usage
        one_hot = F.one_hot(codes.flatten(), self.num_codes).to(ref.dtype)  # (N, K)
        counts = one_hot.sum(0)[:, None]  # (K, 1)
        if self.ema:
            # One matrix product rather than index_add_, whose atomic adds are not deterministic on GPUs.
            sums = one_hot.T @ self.flatten(z_e.detach()).to(ref.dtype)  # (K, D)
            stats = _all_reduce_sum(torch.cat([counts, sums], dim=1))  # (K, 1 + D), one collective call
            counts, sums = stats[:, :1], stats[:, 1:]
        else:
            counts = _all_reduce_sum(counts)
        n = counts.squeeze(1)  # (K,)
        # torch.where rather than an `if` on the flag: no device-to-host sync in the training step.
        ema_usage = self.decay * self.code_usage + (1 - self.decay) * n
        self.code_usage.copy_(torch.where(self.usage_started, ema_usage, n))
        self.usage_started.fill_(True)
        if self.ema:
            self._ema_update(n, sums)

    def _ema_update(self, n: torch.Tensor, sums: torch.Tensor) -> None:
        """N_i <- decay N_i + (1-decay) n_i; m_i <- decay m_i + (1-decay) sum_i; e_i = m_i / smoothed N_i."""
        self.cluster_size.mul_(self.decay).add_(n, alpha=1 - self.decay)  # (K,)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)  # (K, D)
        total = self.cluster_size.sum()
        # Laplace smoothing keeps the total mass while no code's size reaches 0.
        smoothed = (self.cluster_size + self.epsilon) / (total + self.num_codes * self.epsilon) * total  # (K,)
        self.codebook.copy_(self.embed_sum / smoothed[:, None])

    # Keeping the whole codebook in use.

    def dead_codes(self, threshold: float) -> torch.Tensor:
        """(K,) bool: codes whose usage EMA (positions per batch) is below `threshold`."""
        return self.code_usage < threshold

    @torch.no_grad()
    def revive_dead_codes(
        self, z_e_flat: torch.Tensor, generator: torch.Generator, threshold: float = 1.0
    ) -> torch.Tensor:
        """Re-seed codes whose usage EMA fell below `threshold` with encoder outputs drawn from the batch.

        Args:
            z_e_flat: (N, D) encoder outputs of the current batch (`VectorQuantizer.flatten(z_e)`).
            generator: the source of the random choice (distinct rows while N allows it).
            threshold: usage EMA, in positions per batch, below which a code counts as dead.

        Returns the (K,) bool mask of revived codes. A revived code's usage is reset to the mean usage (at
        least `threshold`) so that it has a few batches to attract vectors before it can be judged again.
        Under torch.distributed every process must call this together: the mask agrees across processes
        (the usage EMA is built from summed counts) and rank 0's choice of vectors is broadcast.
        """
        dead = self.dead_codes(threshold)  # (K,)
        num_dead = int(dead.sum())
        if num_dead == 0:
            return dead
        n = z_e_flat.shape[0]
        if n >= num_dead:
            rows = torch.randperm(n, generator=generator, device=generator.device)[:num_dead]
        else:
            rows = torch.randint(n, (num_dead,), generator=generator, device=generator.device)
        new = z_e_flat.detach()[rows.to(z_e_flat.device)].to(self.codebook.dtype)  # (num_dead, D)
        new = _broadcast_from_main(new.contiguous())
        grace = max(threshold, float(self.code_usage.mean()))
        self.codebook[dead] = new
        self.code_usage[dead] = grace
        if self.ema:
            # Keep e_i = m_i / N_i at the new vector.
            self.cluster_size[dead] = grace
            self.embed_sum[dead] = grace * new
        return dead
