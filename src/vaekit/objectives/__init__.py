"""Objectives: callables `objective(model, x, step=, generator=) -> LossOutput`, swappable on one model."""

from vaekit.objectives.base import LossOutput, build_objective
from vaekit.objectives.capacity import CapacityElbo
from vaekit.objectives.elbo import Elbo, ElboTerms, elbo_terms
from vaekit.objectives.iwae import Iwae, log_importance_weights
from vaekit.objectives.prior_nll import PriorNll
from vaekit.objectives.tcvae import BetaTcvae, total_correlation
from vaekit.objectives.vq import VQObjective, VQTerms, vq_terms

__all__ = [
    "BetaTcvae",
    "CapacityElbo",
    "Elbo",
    "ElboTerms",
    "Iwae",
    "LossOutput",
    "PriorNll",
    "VQObjective",
    "VQTerms",
    "build_objective",
    "elbo_terms",
    "log_importance_weights",
    "total_correlation",
    "vq_terms",
]
