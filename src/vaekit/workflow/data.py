"""A run's data as every stage sees it: the splits on the device after load-time binarization, with labels
where the model is conditioned on them."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vaekit.config import Config
from vaekit.data import Binarization, ImageData, load_data
from vaekit.errors import DataError
from vaekit.models import capabilities
from vaekit.train.loop import Cond


@dataclass
class RunData:
    data: ImageData  # as loaded, on the CPU
    train_x: torch.Tensor  # (N, C, H, W) on the device, after load-time binarization
    test_x: torch.Tensor  # (M, C, H, W)
    train_cond: Cond  # {"y": (N,) int64} for a model conditioned on labels, else {}
    test_cond: Cond
    binarization: Binarization

    def split(self, name: str) -> tuple[torch.Tensor, Cond]:
        return (self.train_x, self.train_cond) if name == "train" else (self.test_x, self.test_cond)


def load_run_data(config: Config, device: torch.device | str) -> RunData:
    """Load config.data, binarize as the config says, and attach labels when the model needs them.

    A conditional model (capability `labels`) whose model.num_classes is 0 gets it from the training labels
    here, so that the config written into the run holds it.
    """
    data = load_data(
        config.data.source,
        data_dir=config.data.data_dir,
        test_fraction=config.data.test_fraction,
        split_seed=config.data.split_seed,
        download=config.data.download,
    )
    binarization = Binarization.of(config)
    train_x, test_x = binarization.at_load(data.train, data.test)
    train_cond: Cond = {}
    test_cond: Cond = {}
    if "labels" in capabilities(config.model):
        train_cond, test_cond = _labels(config, data)
    train_cond = {k: v.to(device) for k, v in train_cond.items()}
    test_cond = {k: v.to(device) for k, v in test_cond.items()}
    return RunData(data, train_x.to(device), test_x.to(device), train_cond, test_cond, binarization)


def _labels(config: Config, data: ImageData) -> tuple[Cond, Cond]:
    if data.train_labels is None or data.test_labels is None:
        raise DataError(
            f"model.type={config.model.type} is conditioned on class labels, but data '{config.data.source}' has "
            "none. Use a labelled source (mnist, fashion-mnist, cifar10, digits), an image folder with one "
            "subfolder per class, or an .npz with train_labels (y_train) and test_labels (y_test)."
        )
    if config.model.num_classes == 0:
        config.model.num_classes = int(data.train_labels.max()) + 1
    k = config.model.num_classes
    for split, y in (("train", data.train_labels), ("test", data.test_labels)):
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= k):
            raise DataError(
                f"data '{config.data.source}': the {split} labels run from {int(y.min())} to {int(y.max())}, but "
                f"model.num_classes is {k}. Labels must be 0..num_classes-1; set model.num_classes or fix the labels."
            )
    return {"y": data.train_labels}, {"y": data.test_labels}
