"""What is measured for each family of models, found from model.type through its registry entry's `evaluation`.

`likelihood`: every model on the latent-variable contract (ELBO, importance-weighted log p(x)); `codebook`: the
VQ-VAE. The training loop logs `test_metrics` each epoch and `epoch_line` in its log; `vaekit evaluate` writes
`report` and prints its `summary` keys.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from vaekit.evaluate.codebook import vq_per_example, vq_report
from vaekit.evaluate.likelihood import elbo_per_example
from vaekit.evaluate.report import likelihood_report
from vaekit.models import model_entry
from vaekit.registry import EVALUATIONS


@dataclass(frozen=True)
class ModelEvaluation:
    test_metrics: Callable  # (model, x, generator, **cond) -> {name: (B,) tensor}, logged each epoch as test_<name>
    # (model, x, *, iw_samples, batch_size, generator, transform, progress, cond, capabilities) -> dict
    report: Callable
    summary: tuple[str, ...]  # the report's headline keys
    epoch_line: Callable[[dict[str, float], dict[str, float]], str]  # (train, test metrics) -> words for the log


def _vae_line(train: dict[str, float], test: dict[str, float]) -> str:
    line = f"train -ELBO {-train.get('elbo', math.nan):.2f}  test -ELBO {-test['elbo']:.2f}  KL {test['kl']:.2f}"
    if "mi" in test:
        line += f"  MI {test['mi']:.2f}"
    if "active_units" in test:
        line += f"  AU {int(test['active_units'])}"
    return line


def _vq_line(train: dict[str, float], test: dict[str, float]) -> str:
    return (
        f"train -log p(x|z_q) {-train['reconstruction']:.2f}  test -log p(x|z_q) {-test['reconstruction']:.2f}  "
        f"perplexity {train['perplexity']:.1f}  dead codes {train['dead_codes']:.1f}"
    )


EVALUATIONS.register("likelihood")(
    ModelEvaluation(
        test_metrics=elbo_per_example,
        report=likelihood_report,
        summary=("elbo", "log_likelihood", "elbo_gap", "reconstruction", "kl", "bits_per_dim", "mi", "active_units"),
        epoch_line=_vae_line,
    )
)
EVALUATIONS.register("codebook")(
    ModelEvaluation(
        test_metrics=vq_per_example,
        report=vq_report,
        summary=(
            "reconstruction",
            "reconstruction_mse",
            "prior_nll",
            "elbo",
            "bits_per_dim",
            "codebook_size",
            "codebook_perplexity",
            "dead_codes",
        ),
        epoch_line=_vq_line,
    )
)


def evaluation_for(model_type: str) -> ModelEvaluation:
    """The measurements of model.type `model_type` (a ConfigError naming the choices if there are none)."""
    return EVALUATIONS.get(model_entry(model_type).evaluation)
