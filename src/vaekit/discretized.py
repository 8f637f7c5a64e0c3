"""Pixels that take `levels` values: discretized likelihoods, dequantization, and the change of variables.

A pixel stored as an integer v in {0, ..., L-1} (L = levels: 256 for 8-bit images, 17 for scikit-learn's digits,
2 for binary pixels) is seen by vaekit as x = v / (L - 1) in [0, 1]. Its bin is [x - w/2, x + w/2] with the bin
width w = 1 / (L - 1); the two edge bins extend to -inf and +inf, so a continuous distribution F over the real
line gives every value a probability, P(v) = F(x + w/2) - F(x - w/2), and the L probabilities sum to 1.

- `DiscretizedLogisticMixture`: per pixel and channel a mixture of K logistics, discretized this way
  (Salimans et al. 2017, PixelCNN++; used by IAF-VAE, NVAE, VDVAE). Channels are independent given z: unlike
  PixelCNN++, whose green and blue means depend linearly on the red (and green) value of the same pixel.
- `DiscretizedGaussian`: the same with a Gaussian (one component).
- `dequantize`: x + w (u - 1/2), u ~ U[0, 1)^D, the uniform noise under which a continuous density p on the
  dequantized pixels bounds the discrete probability: log P(v) >= E_u[log p(x + w (u - 1/2))] + D log w
  (Theis et al. 2016, "A note on the evaluation of generative models"). `log_bin_width(levels)` is log w.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.distributions import Distribution, constraints

# Learned log-scales are clamped below here (scale 3.4e-4, a twelfth of an 8-bit bin), as PixelCNN++ clamps at
# -7 on its [-1, 1] scale: it keeps 1/scale finite in float32 and a bin's probability can still reach 0.99.
MIN_LOG_SCALE = -8.0
EDGE = 1e30  # the open end of an edge bin: times 1/scale <= e^8 it stays finite in float32 (max 3.4e38)


def bin_width(levels: int) -> float:
    """w = 1 / (L - 1): the distance between neighbouring pixel values x = v / (L - 1)."""
    if levels < 2:
        raise ValueError(f"pixels need at least 2 levels, got {levels}")
    return 1.0 / (levels - 1)


def log_bin_width(levels: int) -> float:
    """log w = -log(L - 1): per dimension, the change of variables from a density on x to a probability of v."""
    return -math.log(levels - 1)


def dequantize(x: torch.Tensor, levels: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + w (u - 1/2) with u ~ U[0, 1) per element: a uniform draw within each pixel's bin; x (B, C, H, W)."""
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + bin_width(levels) * (u - 0.5)


def _log_sigmoid_interval(lower: torch.Tensor, upper: torch.Tensor, inv_scale_width: torch.Tensor) -> torch.Tensor:
    """log(sigmoid(upper) - sigmoid(lower)) for upper - lower = inv_scale_width > 0, exactly and without cancellation.

    sigmoid(b) - sigmoid(a) = sigmoid(b) sigmoid(-a) (1 - e^(a - b)); each factor's log is stable in float32 for
    any a, b, and a - b is passed in rather than computed, so a tiny bin far in a tail keeps its digits. This is
    where PixelCNN++ needs its small-probability branch (the density at the bin centre times the bin width).
    """
    return F.logsigmoid(upper) + F.logsigmoid(-lower) + _log1m_exp(inv_scale_width)


def _log1m_exp(d: torch.Tensor) -> torch.Tensor:
    """log(1 - e^(-d)) for d >= 0, floored at log(1e-30) so that a bin whose width underflowed to 0 (and so a
    branch that torch.where discards) gives a finite value and a zero, not NaN, gradient."""
    return torch.log(torch.clamp(-torch.expm1(-d), min=1e-30))


def _log_ndtr(x: torch.Tensor) -> torch.Tensor:
    """log Phi(x) with accurate, finite gradients in float32 (torch's log_ndtr backward drifts below about -100
    and overflows below -1e4): below -20, the asymptotic series -x^2/2 - log(-x) - log(2 pi)/2 + log(1 - 1/x^2 +
    3/x^4), whose next term is below 3e-7 there."""
    tail = x < -20.0
    xt = torch.where(tail, x, torch.full_like(x, -20.0))  # each branch sees only inputs where it is finite
    inv2 = xt.pow(-2)
    series = -0.5 * xt.pow(2) - torch.log(-xt) - 0.5 * math.log(2 * math.pi) + torch.log1p(-inv2 + 3 * inv2.pow(2))
    return torch.where(tail, series, torch.special.log_ndtr(torch.where(tail, torch.zeros_like(x), x)))


def _log_ndtr_interval(lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """log(Phi(upper) - Phi(lower)), upper > lower, stable in float32.

    Reflected so that the interval's midpoint is <= 0 (Phi's tail is accurate there and 1 - Phi is not), then
    log Phi(b) + log(1 - exp(log Phi(a) - log Phi(b))). When the standardized bin is narrow (< 1e-3) the two log
    Phi's agree to most of their digits, so there it uses the density at the bin centre times the bin width, as
    PixelCNN++ does: the relative error of that rule is about width^2 (m^2 - 1) / 24, below 1e-4 for |m| < 100.
    """
    flip = (lower + upper) > 0
    a = torch.where(flip, -upper, lower)
    b = torch.where(flip, -lower, upper)
    log_phi_b = _log_ndtr(b)
    exact = log_phi_b + _log1m_exp(log_phi_b - _log_ndtr(a))
    mid, width = 0.5 * (a + b), b - a
    midpoint = -0.5 * mid.pow(2) - 0.5 * math.log(2 * math.pi) + torch.log(width)
    return torch.where(width < 1e-3, midpoint, exact)


class DiscretizedPixels(Distribution):
    """A distribution over images whose pixels take `levels` values v / (L - 1), each channel independent given
    its parameters; event shape (C, H, W). Subclasses give the log-probability of each pixel's bin, the continuous
    CDF and a continuous draw; this class gives log_prob (summed over the event), the exact mean and sample.
    """

    arg_constraints: dict = {}
    support = constraints.unit_interval
    has_rsample = False

    def __init__(self, shape: torch.Size, levels: int) -> None:
        self.levels = levels
        self.half_width = 0.5 * bin_width(levels)
        super().__init__(shape[:-3], shape[-3:], validate_args=False)

    # Subclasses: elementwise over (..., C, H, W).
    def log_bin_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log P(pixel value) for x (..., C, H, W) on the grid v / (L - 1); same shape (broadcast)."""
        raise NotImplementedError

    @property
    def device_dtype_like(self) -> torch.Tensor:
        """A tensor with the parameters' device and dtype."""
        raise NotImplementedError

    def cdf(self, t: torch.Tensor) -> torch.Tensor:
        """P(X <= t) of the continuous distribution before discretization; t broadcasts against (..., C, H, W)."""
        raise NotImplementedError

    def continuous_sample(self, sample_shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
        """A draw of the continuous distribution, (*sample_shape, ..., C, H, W)."""
        raise NotImplementedError

    def edges(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Masks of the pixels in the bottom bin (v = 0, down to -inf) and the top bin (v = L - 1, up to +inf)."""
        v = torch.round(x * (self.levels - 1))
        return v <= 0, v >= self.levels - 1

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """log P(x) summed over (C, H, W): value (B, C, H, W) with batch shape (S, B) gives (S, B)."""
        return self.log_bin_prob(value).sum((-3, -2, -1))

    @property
    def mean(self) -> torch.Tensor:
        """E[x] = w sum_{k=1}^{L-1} P(v >= k), exactly; levels in chunks of about 2^22 elements of memory."""
        with torch.no_grad():
            edges = (torch.arange(1, self.levels, dtype=torch.float64) - 0.5) / (self.levels - 1)  # (L-1,)
            size = max(1, 2**22 // max(1, self.batch_shape.numel() * self.event_shape.numel()))
            total = 0.0
            for chunk in edges.split(size):
                t = chunk.to(self.device_dtype_like).view(-1, *[1] * (len(self.batch_shape) + 3))  # (n, 1, ..., 1)
                total = total + (1.0 - self.cdf(t)).sum(0)  # (n, ..., C, H, W) -> (..., C, H, W)
            return total / (self.levels - 1)

    def sample(self, sample_shape: torch.Size | tuple = (), generator: torch.Generator | None = None) -> torch.Tensor:
        """Pixel values v / (L - 1): a continuous draw rounded to its bin (the edge bins take the tails)."""
        with torch.no_grad():
            y = self.continuous_sample(torch.Size(sample_shape), generator)
            return torch.round(y.clamp(0.0, 1.0) * (self.levels - 1)) / (self.levels - 1)


class DiscretizedLogisticMixture(DiscretizedPixels):
    """Per pixel and channel sum_k pi_k Logistic(mu_k, s_k), discretized to `levels` values (PixelCNN++).

    logits, means, log_scales: (..., C, H, W, K) on the [0, 1] pixel scale; log-scales are clamped below at
    MIN_LOG_SCALE. The mixture is combined with a logsumexp over k.
    """

    def __init__(self, logits: torch.Tensor, means: torch.Tensor, log_scales: torch.Tensor, levels: int) -> None:
        self.log_weights = torch.log_softmax(logits, -1)  # (..., C, H, W, K)
        self.means = means
        self.log_scales = log_scales.clamp(min=MIN_LOG_SCALE)
        super().__init__(means.shape[:-1], levels)

    def log_bin_prob(self, x: torch.Tensor) -> torch.Tensor:
        # The edge bins' open ends are set on x's own shape, before broadcasting against the components: +-EDGE
        # (standing for infinity; finite so that gradients are 0, not inf * 0) makes sigmoid of that end 0 or 1
        # and the width term log(1 - e^-inf) = 0, so one formula serves every bin with no torch.where.
        x = x.unsqueeze(-1)  # (..., C, H, W, 1) against the K components
        bottom, top = self.edges(x)
        lower_end = torch.where(bottom, -EDGE, x - self.half_width)
        upper_end = torch.where(top, EDGE, x + self.half_width)
        width = torch.full_like(x, 2 * self.half_width).masked_fill(bottom | top, EDGE)
        inv_scale = torch.exp(-self.log_scales)  # (..., C, H, W, K)
        log_p = _log_sigmoid_interval(
            (lower_end - self.means) * inv_scale, (upper_end - self.means) * inv_scale, width * inv_scale
        )
        return torch.logsumexp(self.log_weights + log_p, -1)  # (..., C, H, W)

    @property
    def device_dtype_like(self) -> torch.Tensor:
        return self.means

    def cdf(self, t: torch.Tensor) -> torch.Tensor:
        t = t.unsqueeze(-1)  # against the K components
        return (self.log_weights.exp() * torch.sigmoid((t - self.means) * torch.exp(-self.log_scales))).sum(-1)

    def continuous_sample(self, sample_shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
        shape = sample_shape + self.means.shape  # (*S, ..., C, H, W, K)
        options = {"generator": generator, "device": self.means.device, "dtype": self.means.dtype}
        gumbel = -torch.log(-torch.log(torch.rand(shape, **options).clamp(1e-7, 1 - 1e-7)))
        k = torch.argmax(self.log_weights + gumbel, -1, keepdim=True)  # a component per pixel (Gumbel-max)
        mean = torch.gather(self.means.expand(shape), -1, k).squeeze(-1)  # (*S, ..., C, H, W)
        log_scale = torch.gather(self.log_scales.expand(shape), -1, k).squeeze(-1)
        u = torch.rand(mean.shape, **options).clamp(1e-7, 1 - 1e-7)
        return mean + log_scale.exp() * (torch.log(u) - torch.log1p(-u))  # the logistic's inverse CDF


class DiscretizedGaussian(DiscretizedPixels):
    """Per pixel and channel N(mean, scale^2), discretized to `levels` values; mean, scale: (..., C, H, W)."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor, levels: int) -> None:
        self.loc = mean
        self.scale = scale.clamp(min=math.exp(MIN_LOG_SCALE))
        super().__init__(mean.shape, levels)

    def log_bin_prob(self, x: torch.Tensor) -> torch.Tensor:
        lower = (x - self.half_width - self.loc) / self.scale  # (..., C, H, W)
        upper = (x + self.half_width - self.loc) / self.scale
        bottom, top = self.edges(x)
        interior = _log_ndtr_interval(lower, upper)
        return torch.where(bottom, _log_ndtr(upper), torch.where(top, _log_ndtr(-lower), interior))

    @property
    def device_dtype_like(self) -> torch.Tensor:
        return self.loc

    def cdf(self, t: torch.Tensor) -> torch.Tensor:
        return torch.special.ndtr((t - self.loc) / self.scale)

    def continuous_sample(self, sample_shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
        shape = sample_shape + self.loc.shape
        eps = torch.randn(shape, generator=generator, device=self.loc.device, dtype=self.loc.dtype)
        return self.loc + self.scale * eps
