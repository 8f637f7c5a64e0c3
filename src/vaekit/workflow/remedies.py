"""The remedies for posterior collapse that act around the epochs of training (workflow.fit.EpochHooks).

- Autoencoder pretraining, then free bits (Li et al. 2019, "A Surprisingly Effective Fix for Deep Latent Variable
  Modeling of Text"): objective.pretrain_epochs epochs with the KL weight at 0 (the objective's schedule), after
  which the decoder is re-initialized, here to its initial weights, and Adam's moments start afresh, as the paper's
  second run does; the VAE phase then trains with objective.free_bits.
- Aggressive inference-network updates (He et al. 2019, "Lagging Inference Networks and Posterior Collapse in
  Variational Autoencoders"): train.aggressive; before each step the inference network alone is trained on fresh
  batches until its loss stops falling (vaekit.train.loop.InnerSteps), and the step moves the rest; after the first
  epoch whose held-out mutual information is below the previous epoch's (0 before the first), training goes on
  normally.

Both ask the model which parameters are whose (the `networks` capability), and both resume exactly: the switch
happens at the start of an epoch from the epoch number and the saved state alone.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from vaekit.config import Config
from vaekit.models.base import require
from vaekit.train.loop import InnerSteps

Log = Callable[[str], None]


def check_remedies(config: Config, capabilities: frozenset[str]) -> None:
    """Refuse, before anything is loaded, a remedy this config's model or run cannot take."""
    pretrain = getattr(config.objective, "pretrain_epochs", 0)
    model_type = config.model.type
    if pretrain > 0:
        require(capabilities, "networks", "objective.pretrain_epochs (re-initializing the decoder)", model_type)
    if config.train.aggressive:
        require(capabilities, "networks", "train.aggressive (updating the inference network alone)", model_type)
        require(capabilities, "gaussian_posterior", "train.aggressive (its stopping rule's I(x; z))", model_type)


class CollapseRemedies:
    """EpochHooks of the two remedies (either or both on); `log` says when each switches."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, config: Config, log: Log | None) -> None:
        self.model = model
        self.optimizer = optimizer
        self.pretrain_epochs = getattr(config.objective, "pretrain_epochs", 0)
        self.max_steps = config.train.aggressive_max_steps
        self.log = log
        # the decoder's initial weights, to return to after pretraining (taken before a resume loads the trained ones)
        self.initial = [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in self.generative_modules()]
        self.aggressive = config.train.aggressive
        self.previous_mi = 0.0
        if log and self.pretrain_epochs >= config.train.epochs:
            log(
                f"note: objective.pretrain_epochs={self.pretrain_epochs} covers all {config.train.epochs} epochs: this "
                "run is an autoencoder. Resume it with more epochs (--epochs) to train the VAE phase."
            )

    def generative_modules(self) -> list[nn.Module]:
        return self.model.generative_modules() if self.pretrain_epochs > 0 else []

    def start_epoch(self, epoch: int) -> InnerSteps | None:
        if self.pretrain_epochs > 0 and epoch == self.pretrain_epochs + 1:
            self.reset_decoder()
            if self.log:
                self.log(
                    f"epoch {epoch}: autoencoder pretraining done ({self.pretrain_epochs} epochs); the decoder is "
                    "re-initialized and the KL term is on (Li et al. 2019)"
                )
        if not self.aggressive:
            return None
        return InnerSteps(tuple(self.model.inference_parameters()), max_steps=self.max_steps)

    def reset_decoder(self) -> None:
        """The decoder back to its initial weights, and the optimizer's moments cleared (they belong to the old one)."""
        with torch.no_grad():
            for module, weights in zip(self.generative_modules(), self.initial, strict=True):
                module.load_state_dict(weights)
        self.optimizer.state.clear()

    def end_epoch(self, epoch: int, test: dict[str, float]) -> None:
        if not self.aggressive:
            return
        mi = float(test["mi"])
        if mi < self.previous_mi:
            self.aggressive = False
            if self.log:
                self.log(
                    f"epoch {epoch}: the test I(x; z) fell ({self.previous_mi:.3f} -> {mi:.3f}); aggressive inference "
                    "updates stop (He et al. 2019)"
                )
        self.previous_mi = mi

    def state(self) -> dict:
        return {"aggressive": self.aggressive, "previous_mi": self.previous_mi}

    def load_state(self, state: dict) -> None:
        self.aggressive = bool(state.get("aggressive", self.aggressive))
        self.previous_mi = float(state.get("previous_mi", self.previous_mi))


def remedies_for(model: nn.Module, optimizer, config: Config, log: Log | None) -> CollapseRemedies | None:
    """The stage's hooks when a remedy around the epochs is on; None otherwise."""
    if getattr(config.objective, "pretrain_epochs", 0) > 0 or config.train.aggressive:
        return CollapseRemedies(model, optimizer, config, log)
    return None
