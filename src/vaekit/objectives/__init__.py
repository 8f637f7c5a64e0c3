"""Objectives: callables `objective(model, x, step=, generator=) -> LossOutput`, swappable on one model."""

from vaekit.objectives.base import LossOutput, build_objective
from vaekit.objectives.elbo import Elbo, ElboTerms, elbo_terms
from vaekit.objectives.iwae import Iwae, log_importance_weights

__all__ = [
    "Elbo",
    "ElboTerms",
    "Iwae",
    "LossOutput",
    "build_objective",
    "elbo_terms",
    "log_importance_weights",
]
