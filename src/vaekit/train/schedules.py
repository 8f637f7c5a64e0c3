"""Learning-rate schedules as pure functions of the epoch (so a resumed run needs no scheduler state)."""

from __future__ import annotations

from vaekit.registry import Registry

LR_SCHEDULES: Registry = Registry("learning-rate schedule", "train.lr_schedule")


@LR_SCHEDULES.register("constant")
def constant(base_lr: float, epoch: int) -> float:
    return base_lr


@LR_SCHEDULES.register("iwae")
def iwae_passes(base_lr: float, epoch: int) -> float:
    """Burda et al. 2016: stage i = 0..7 lasts 3^i passes at base_lr * 10^(-i/7) (3280 epochs in all).

    `epoch` counts from 0. Epochs past the last stage keep its rate.
    """
    stage, end = 0, 1
    while epoch >= end and stage < 7:
        stage += 1
        end += 3**stage
    return base_lr * 10 ** (-stage / 7)


def lr_at_epoch(name: str, base_lr: float, epoch: int) -> float:
    return LR_SCHEDULES.get(name)(base_lr, epoch)
