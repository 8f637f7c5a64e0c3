"""vaekit: variational autoencoders, faithfully implemented and practical.

import vaekit, torch
config = vaekit.load_config(preset="quickstart", overrides=["train.epochs=5"])
run = vaekit.train(config, out="runs/quickstart")
images = run.sample(16, generator=torch.Generator().manual_seed(0))
features = run.encode(images)
"""

from vaekit.config import Config, load_config
from vaekit.run import Run, load_run
from vaekit.workflow.prior import train_prior
from vaekit.workflow.training import resume, train

__version__ = "0.1.0"
__all__ = ["Config", "Run", "load_config", "load_run", "resume", "train", "train_prior", "__version__"]
