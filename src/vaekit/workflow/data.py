"""A run's data as every stage sees it: the splits on the device after load-time binarization, with labels
where the model is conditioned on them, the number of values a pixel takes, and the DataSpec that says what x is.

The kind of data (vaekit.spec) is decided here, once: a sequence source (vaekit.data.sequences.is_sequence_source)
is read as sequences, a table source (vaekit.data.tables.is_table_source) as a table, anything else as images."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from vaekit.config import Config, DataConfig, check_data_keys
from vaekit.data import Binarization, ImageData, default_data_dir, load_data
from vaekit.data.sequences import (
    BucketBatches,
    SequenceData,
    SequenceOptions,
    is_sequence_source,
    lengths_of,
    load_sequences,
    padding_shares,
)
from vaekit.data.stream import DiskImages, stream_data
from vaekit.data.tables import TableData, TableOptions, is_table_source, load_table
from vaekit.data.transforms import ImageTransforms
from vaekit.data.types import to_unit
from vaekit.errors import DataError
from vaekit.models import capabilities
from vaekit.nn.likelihoods import likelihood_support
from vaekit.spec import DataSpec
from vaekit.train.distributed import seeded_generator
from vaekit.train.loop import Batcher, Cond

Loaded = ImageData | TableData | SequenceData


@dataclass
class RunData:
    data: Loaded  # as loaded, on the CPU
    # (N, C, H, W) as stored (uint8 codes or float32: binarization.to_float), on the device, or on disk (data.stream)
    train_x: torch.Tensor | DiskImages
    test_x: torch.Tensor  # (M, C, H, W)
    train_cond: Cond  # {"y": (N,) int64} for a model conditioned on labels, else {}
    test_cond: Cond
    binarization: Binarization
    levels: int | None = None  # the values a pixel takes as the model sees them (2 when binarized); None: continuous
    spec: DataSpec | None = None  # what x is; written with the run
    batcher: Batcher | None = None  # how training batches are made (sequences: bucketed by length); None: as stored

    def split(self, name: str) -> tuple[torch.Tensor, Cond]:
        """A split as float32 in [0, 1] (a converted copy of uint8 codes; sequences: int64 token ids as they are), and
        its conditioning."""
        x, cond = (self.train_x, self.train_cond) if name == "train" else (self.test_x, self.test_cond)
        if isinstance(x, DiskImages):  # read whole, to the device of the test split
            x = x[:].to(self.test_x.device)
        return self.binarization.to_float(x), cond


def load_run_data(config: Config, device: torch.device | str, spec: DataSpec | None = None) -> RunData:
    """Load config.data, binarize as the config says, and attach labels when the model needs them.

    A conditional model (capability `labels`) whose model.num_classes is 0 gets it from the training labels
    here, so that the config written into the run holds it. `spec`: a trained run's, so that a table is read as the
    run read its training data (its columns, categories and standardization); None: inferred from the data.
    """
    if _is_sequence(config.data, config.data.source, spec):
        return _sequence_run_data(config, device, spec)
    if is_table_source(config.data.source, config.data.kind):
        return _table_run_data(config, device, spec)
    check_data_keys(config.data, "image")
    data = load_configured(config.data, progress=config.train.progress)
    if isinstance(data.train, DiskImages) and config.data.binarize == "static":
        raise DataError(
            "data.binarize=static draws one binarization of the whole data set in memory, which data.stream avoids. "
            "Use data.binarize=dynamic (a fresh draw per batch), or data.stream=false."
        )
    levels = pixel_levels(config, data)
    if config.model.likelihood.levels == 0 and levels is not None:
        config.model.likelihood.levels = levels  # so the run's config.yaml records them
    support = likelihood_support(config.model.likelihood.type)
    if support == "levels" and levels != config.model.likelihood.levels:
        raise DataError(
            f"model.likelihood.type={config.model.likelihood.type} models pixels of {config.model.likelihood.levels} "
            f"values, but data '{config.data.source}' has {levels or 'continuous (float)'} values per pixel. Use data "
            "with the run's number of values, or a model trained on this data."
        )
    codes = data.levels if data.train.dtype == torch.uint8 else None
    binarization = Binarization.of(config, levels if support == "real" else None, codes)  # a density: dequantized
    train_x, test_x = binarization.at_load(data.train, data.test, data.levels)
    train_cond, test_cond = _conditioning(config, data, device)
    spec = image_spec(config, data.shape, levels)
    if isinstance(train_x, DiskImages):  # streamed: the train split stays on disk, the test split is read whole
        return RunData(data, train_x, test_x[:].to(device), train_cond, test_cond, binarization, levels, spec)
    return RunData(data, train_x.to(device), test_x.to(device), train_cond, test_cond, binarization, levels, spec)


def image_spec(config: Config, shape: tuple[int, ...], levels: int | None) -> DataSpec:
    """The spec of images as the model sees them (levels after binarization) and how they were made so."""
    cfg = config.data
    steps = {"grayscale": cfg.grayscale, "resize": cfg.resize, "center_crop": cfg.center_crop, "invert": cfg.invert}
    preprocessing = {k: v for k, v in steps.items() if v} | {"binarize": cfg.binarize}
    return DataSpec.image(shape, levels, preprocessing)


_IMAGE_LIKELIHOOD_DEFAULT = "bernoulli"  # the config's default likelihood, which a table replaces by its own


def _table_run_data(config: Config, device: torch.device | str, spec: DataSpec | None) -> RunData:
    """A table: its rows encoded as the spec says, labels for a conditional model; no binarization."""
    check_data_keys(config.data, "table")
    if config.model.likelihood.type == _IMAGE_LIKELIHOOD_DEFAULT:
        config.model.likelihood.type = "columns"  # a table's own likelihood; the run's config.yaml records it
    data = load_configured(config.data, spec=spec)
    train_cond, test_cond = _conditioning(config, data, device)
    binarization = Binarization("none", config.train.seed)
    return RunData(
        data, data.train.to(device), data.test.to(device), train_cond, test_cond, binarization, None, data.spec
    )


_IMAGE_NETWORK_DEFAULT = "mlp"


def _is_sequence(cfg: DataConfig, source: str, spec: DataSpec | None) -> bool:
    """Whether `source` is read as sequences: the run's own kind when it has a spec, else by the source."""
    if spec is not None:
        return spec.kind == "sequence"
    return is_sequence_source(source, cfg.kind, getattr(cfg, "column", None))


def _sequence_run_data(config: Config, device: torch.device | str, spec: DataSpec | None) -> RunData:
    """Sequences: int64 token ids on the device (never float), batches bucketed by length, no binarization.

    A config still at the image defaults gets the sequence kind's own network and likelihood (recurrent, tokens),
    recorded in the run's config.yaml. The padding share of the first epoch's batches is measured here (with the
    epoch's own shuffling stream), for the load summary.
    """
    check_data_keys(config.data, "sequence")
    if config.model.likelihood.type == _IMAGE_LIKELIHOOD_DEFAULT:
        config.model.likelihood.type = "tokens"
    network = getattr(config.model, "network", None)
    if network is not None and network.type == _IMAGE_NETWORK_DEFAULT:
        network.type = "recurrent"
    data = load_configured(config.data, spec=spec)
    lengths = lengths_of(data.train)  # (N,)
    g = seeded_generator(torch.device("cpu"), config.train.seed, 1, 0)  # fit's shuffling stream of epoch 1
    shares = padding_shares(lengths, data.shape[0], config.train.batch_size, g)
    data = dataclasses.replace(data, padding=shares, batch_size=config.train.batch_size)
    _conditioning(config, data, device)  # a model conditioned on labels is refused: sequences have none
    batcher = BucketBatches(lengths, bucket=config.data.bucket)
    binarization = Binarization("none", config.train.seed)
    return RunData(data, data.train.to(device), data.test.to(device), {}, {}, binarization, None, data.spec, batcher)


def load_configured(
    cfg: DataConfig,
    source: str | None = None,
    data_dir: str | None = None,
    progress: bool = True,
    spec: DataSpec | None = None,
) -> Loaded:
    """The data `cfg` describes (split, transforms), or another source (a user's own file) read the same way.

    With data.stream, the run's own data come from a cache on disk (`vaekit.data.stream`, built on first use);
    another source is read into memory. A table is read as `spec` (a trained run's) says, when given.
    """
    if _is_sequence(cfg, source or cfg.source, spec):
        path = Path(source or cfg.source)
        column = getattr(cfg, "column", None) if source is None or not path.suffix.lower().startswith(".txt") else None
        options = SequenceOptions(
            cfg.tokenizer,
            cfg.vocab_size,
            cfg.max_length,
            column,
            cfg.lowercase,
            cfg.test_fraction,
            cfg.split_seed,
            Path(data_dir or cfg.data_dir).expanduser() if (data_dir or cfg.data_dir) else None,
            cfg.download,
            cfg.train_limit,
            cfg.test_limit,
        )
        return load_sequences(source or cfg.source, options, spec)
    if is_table_source(source or cfg.source, cfg.kind):
        options = TableOptions(
            dict(cfg.columns),
            list(cfg.drop),
            cfg.label,
            cfg.test_fraction,
            cfg.split_seed,
            cfg.missing,
            [str(v) for v in cfg.missing_values],
        )
        return load_table(source or cfg.source, options, spec if spec is not None and spec.kind == "table" else None)

    def in_memory() -> ImageData:
        return load_data(
            source or cfg.source,
            data_dir=data_dir or cfg.data_dir,
            test_fraction=cfg.test_fraction,
            split_seed=cfg.split_seed,
            download=cfg.download,
            transforms=transforms_of(cfg),
        )

    if not cfg.stream or source is not None:
        return in_memory()
    root = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else _data_root(cfg.data_dir) / "cache"
    return stream_data(
        cfg.source,
        root,
        load_in_memory=in_memory,
        test_fraction=cfg.test_fraction,
        split_seed=cfg.split_seed,
        transforms=transforms_of(cfg),
        progress=progress,
    )


def _data_root(data_dir: str | None) -> Path:
    return Path(data_dir).expanduser() if data_dir else default_data_dir()


def transforms_of(cfg: DataConfig) -> ImageTransforms:
    return ImageTransforms.of(cfg.resize, cfg.center_crop, cfg.grayscale, cfg.invert)


_GRID_CHECK_ROWS = 10_000  # images of a streamed split checked against declared levels


def pixel_levels(config: Config, data: ImageData) -> int | None:
    """The values a pixel takes as the model sees it: 2 when binarized, else the data's own `levels`.

    Float data (levels None) whose pixels all lie on the grid v / (L - 1) of a declared model.likelihood.levels = L
    take L; float data off that grid are a DataError.
    """
    if config.data.binarize != "none":
        return 2
    declared = config.model.likelihood.levels
    if data.levels is not None or declared < 2:
        return data.levels
    for x in (data.train, data.test):
        split = to_unit(x if isinstance(x, torch.Tensor) else x[:_GRID_CHECK_ROWS], data.levels)
        scaled = split * (declared - 1)
        if (scaled - scaled.round()).abs().max() > 1e-3:
            raise DataError(
                f"model.likelihood.levels={declared}, but the pixels of data '{config.data.source}' are not all "
                f"multiples of 1/{declared - 1}. Set the number of values the data really have, or 0 for continuous "
                "data (then use model.likelihood.type=gaussian)."
            )
    return declared


def _conditioning(config: Config, data: Loaded, device: torch.device | str) -> tuple[Cond, Cond]:
    """The splits' labels on the device for a model conditioned on them ({"y": (N,)}), else nothing."""
    if "labels" not in capabilities(config.model):
        return {}, {}
    train_cond, test_cond = _labels(config, data)
    return {k: v.to(device) for k, v in train_cond.items()}, {k: v.to(device) for k, v in test_cond.items()}


def _labels(config: Config, data: Loaded) -> tuple[Cond, Cond]:
    if data.train_labels is None or data.test_labels is None:
        raise DataError(
            f"model.type={config.model.type} is conditioned on class labels, but data '{config.data.source}' has "
            "none. Use a labelled source (mnist, fashion-mnist, cifar10, digits), an image folder with one "
            "subfolder per class, an .npz with train_labels (y_train) and test_labels (y_test), or for a table "
            "name its class column with data.label."
        )
    if config.model.num_classes == 0:  # a table's label column knows its classes; images: from the labels seen
        label = data.spec.label if isinstance(data, TableData) else None
        config.model.num_classes = len(label.categories) if label else int(data.train_labels.max()) + 1
    k = config.model.num_classes
    for split, y in (("train", data.train_labels), ("test", data.test_labels)):
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= k):
            raise DataError(
                f"data '{config.data.source}': the {split} labels run from {int(y.min())} to {int(y.max())}, but "
                f"model.num_classes is {k}. Labels must be 0..num_classes-1; set model.num_classes or fix the labels."
            )
    return {"y": data.train_labels}, {"y": data.test_labels}
