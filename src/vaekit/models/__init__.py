"""Generative models: structure only (posterior, prior, likelihood), no loss inside."""

from vaekit.models.build import build_code_prior, build_model
from vaekit.models.vae import VAE
from vaekit.models.vqvae import VQVAE

__all__ = ["VAE", "VQVAE", "build_code_prior", "build_model"]
