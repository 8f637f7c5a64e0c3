"""Network pieces: encoder/decoder bodies (MLP, conv), the Gaussian posterior head, likelihood heads."""

from vaekit.nn import conv, likelihoods, mlp, recurrent  # noqa: F401  (registers the builders)
from vaekit.nn.heads import GaussianHead
from vaekit.nn.layers import activation

__all__ = ["GaussianHead", "activation"]
