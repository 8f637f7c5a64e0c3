"""Objectives: callables `objective(model, x, step=, generator=) -> LossOutput`, swappable on one model."""

from vaekit.objectives.base import LossOutput, build_objective
from vaekit.objectives.elbo import Elbo, ElboTerms, elbo_terms

__all__ = ["Elbo", "ElboTerms", "LossOutput", "build_objective", "elbo_terms"]
