"""Evaluation: pure functions of a model, data and a generator."""

from vaekit.evaluate.likelihood import elbo_per_example

__all__ = ["elbo_per_example"]
