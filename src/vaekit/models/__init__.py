"""Generative models: structure only (posterior, prior, likelihood), no loss inside."""

from vaekit.models.build import build_model
from vaekit.models.vae import VAE

__all__ = ["VAE", "build_model"]
