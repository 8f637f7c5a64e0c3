"""Generative models: structure only (posterior, prior, likelihood), no loss inside. See models/base.py."""

from vaekit.models.base import CAPABILITIES, LatentModel, require
from vaekit.models.build import build_code_prior, build_model, capabilities, model_entry, parameter_count
from vaekit.models.conditional import ConditionalVAE
from vaekit.models.hierarchical import HierarchicalVAE
from vaekit.models.language import LanguageModel
from vaekit.models.vae import VAE
from vaekit.models.vqvae import VQVAE

__all__ = [
    "CAPABILITIES",
    "VAE",
    "VQVAE",
    "ConditionalVAE",
    "HierarchicalVAE",
    "LanguageModel",
    "LatentModel",
    "build_code_prior",
    "build_model",
    "capabilities",
    "model_entry",
    "parameter_count",
    "require",
]
