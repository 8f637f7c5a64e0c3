"""A run directory and the trained model inside it.

Layout (names are part of the public contract):
    config.yaml                 the resolved config (the constructor's arguments)
    spec.json                   what x is (vaekit.spec.DataSpec): kind, shape, support, a table's columns and
                                standardization; runs written before it existed get an image spec from the weights
    model.safetensors           the model's weights; metadata holds the data shape
    training_state.safetensors  weights, optimizer state, epoch and step (for --resume; no RNG state: each
                                epoch's random streams follow from the seed)
    metrics.jsonl               one JSON object per epoch
    samples.png | samples.csv   samples from the prior: a grid of images, or synthetic rows of a table
    prior.safetensors           VQ-VAE only, after `vaekit train-prior`: the PixelCNN prior over codes; its
                                metadata holds the sha256 of the model.safetensors whose codes it was fitted to
    prior_metrics.jsonl         VQ-VAE only: one JSON object per epoch of the prior
    prior_training_state.safetensors  VQ-VAE only: the prior's optimizer state and counters (train-prior --resume)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import torch
import yaml
from safetensors import SafetensorError, safe_open
from torch.distributions import Distribution

from vaekit.config import MAX_SIDE, Config, config_from_dict
from vaekit.data.tables import encode_frame, fill_missing
from vaekit.errors import ConfigError, DataError, RunError, VaekitError
from vaekit.evaluate.imputation import draw_imputations, draw_spread, impute_rows
from vaekit.evaluate.likelihood import IwScores, iw_scores
from vaekit.models import build_code_prior, build_model, capabilities, model_entry, require
from vaekit.nn.tokens import Decoding
from vaekit.spec import DataSpec
from vaekit.train.checkpoint import load_weights
from vaekit.train.distributed import resolve_device
from vaekit.train.loop import batches, read_epoch_records

CONFIG = "config.yaml"
SPEC = "spec.json"
WEIGHTS = "model.safetensors"
STATE = "training_state.safetensors"
METRICS = "metrics.jsonl"
SAMPLES = "samples.png"
PRIOR = "prior.safetensors"
PRIOR_METRICS = "prior_metrics.jsonl"
PRIOR_STATE = "prior_training_state.safetensors"


def read_config(path: Path) -> Config:
    file = path / CONFIG
    if not file.is_file():
        raise RunError(
            f"'{path}' is not a vaekit run directory (no {CONFIG}). Give the --out folder of `vaekit train`."
        )
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"it holds a YAML {type(data).__name__}, not a mapping of config sections")
        return config_from_dict(data)
    except UnicodeDecodeError:
        raise RunError(f"'{file}' is not UTF-8 text. The run directory is damaged: train the run again.") from None
    except OSError as exc:
        raise RunError(f"cannot read '{file}': {exc.strerror or exc}. Check the run directory.") from None
    except (yaml.YAMLError, ConfigError) as exc:
        raise RunError(f"'{file}' is not a valid vaekit config ({exc}). The run directory is damaged.") from None


def read_data_shape(weights: Path) -> tuple[int, ...]:
    """The shape of one example the run was trained on ((C, H, W) or a table's (D,)), from its weights' metadata,
    checked."""
    if not weights.is_file():
        raise RunError(
            f"weights file '{weights}' is missing: the run has not finished its first epoch. Continue it with "
            f"`vaekit train --out {weights.parent} --resume`, or train it again."
        )
    try:
        with safe_open(str(weights), framework="pt") as f:
            shape = json.loads((f.metadata() or {})["data_shape"])
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise RunError(f"weights file '{weights}' is corrupt or truncated ({exc}). Train the run again.") from None
    valid = isinstance(shape, list) and len(shape) in (1, 3)
    if not valid or not all(type(v) is int and 0 < v <= MAX_SIDE for v in shape):
        raise RunError(
            f"weights file '{weights}' records an invalid data shape {shape!r} (expected [C, H, W] or [D], positive "
            "sizes). The file was altered or comes from elsewhere: train the run again."
        )
    return tuple(shape)


def read_spec(path: Path) -> DataSpec:
    """The run's DataSpec: spec.json, or for a run written before spec.json existed, images of the shape its weights
    record, with the levels of its config."""
    file = path / SPEC
    if file.is_file():
        try:
            return DataSpec.from_json(file.read_text(encoding="utf-8"), str(file))
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"cannot read '{file}' ({exc}). The run directory is damaged.") from None
    levels = getattr(read_config(path).model.likelihood, "levels", 0)
    return DataSpec.image(read_data_shape(path / WEIGHTS), levels if levels >= 2 else None)


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (ties a prior to the model weights whose codes it was trained on)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_prior(path: Path, config: Config, num_codes: int) -> torch.nn.Module:
    """The PixelCNN prior of a VQ-VAE run, checked to belong to the run's current model.safetensors."""
    prior = build_code_prior(config.prior, num_codes, seed=config.train.seed)
    load_weights(path / PRIOR, prior)
    with safe_open(str(path / PRIOR), framework="pt") as f:
        trained_on = (f.metadata() or {}).get("model_sha256")
    if trained_on != file_digest(path / WEIGHTS):
        raise RunError(
            f"'{path / PRIOR}' was fitted to the codes of other weights than '{path / WEIGHTS}' (the model was "
            f"trained again since). Fit it again: vaekit train-prior {path} --force"
        )
    return prior


class ImputedDraws(NamedTuple):
    """Multiple imputations of a table (Run.impute_draws)."""

    draws: pd.DataFrame  # M x N rows: a column `draw` (0 .. M-1), then the columns; one completed table per draw
    spread: pd.DataFrame  # N rows, the run's columns: how much the draws of each cell disagree (0 where observed)


DRAW_COLUMN = "draw"


@dataclass
class Run:
    """A trained model with its config; the uses of a VAE, each driven by an explicit generator.

    What a use needs beyond the model contract is a capability of the model (vaekit.models.CAPABILITIES),
    checked with a clear error: `encode` needs `latent_vector`, `encode_codes` needs `codes`; a model with
    `labels` takes labels y (N,) in sample, encode and reconstruct.
    """

    path: Path
    config: Config
    model: torch.nn.Module
    spec: DataSpec

    @property
    def data_shape(self) -> tuple[int, ...]:
        """The shape of one example: (C, H, W) of an image, (D,) of a table's row."""
        return self.spec.event_shape

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def capabilities(self) -> frozenset[str]:
        return capabilities(self.config.model)

    def require(self, name: str, what: str) -> None:
        require(self.capabilities, name, what, self.config.model.type)

    def check_data(self, x: torch.Tensor, source: str = "the data") -> torch.Tensor:
        """x moved to the model's device, after checking it has the shape the model was trained on."""
        if tuple(x.shape[1:]) != self.data_shape:
            word = self.spec.facts.example_word
            raise DataError(
                f"{source} has {word}s of shape {tuple(x.shape[1:])}, but the run '{self.path}' was trained on "
                f"{self.data_shape}. Use data of the same size{' and channels' * (word == 'image')} as the training "
                "data."
            )
        return x.to(self.device)

    def cond(self, y: torch.Tensor | None, num: int) -> dict[str, torch.Tensor]:
        """The model's conditioning for `num` examples: {"y": labels} for a model with `labels`, else {}.

        A conditional model given no labels for sampling gets 0, 1, ..., K-1, 0, 1, ... (one class per column
        of a K-wide grid); other models refuse labels.
        """
        if "labels" not in self.capabilities:
            if y is not None:
                raise DataError(f"run '{self.path}' is a model.type={self.config.model.type}: it takes no labels.")
            return {}
        if y is None:
            y = torch.arange(num) % self.config.model.num_classes
        y = torch.as_tensor(y, dtype=torch.int64).to(self.device)
        if tuple(y.shape) != (num,):
            raise DataError(f"give one label per example: {num} examples, labels of shape {tuple(y.shape)}.")
        return {"y": y}

    def labels_of(self, x: torch.Tensor, y: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """The conditioning of images x: their labels y, which a conditional model requires (no default)."""
        if "labels" in self.capabilities and y is None:
            raise DataError(f"run '{self.path}' is conditioned on labels: give the labels of the images (y=...).")
        return self.cond(y, x.shape[0])

    def check_decoding(self, decoding: Decoding | None) -> None:
        """A choice of decoding is a text run's: refused, with what to do, by a run on other data."""
        if decoding is not None and self.spec.kind != "sequence":
            raise VaekitError(
                f"run '{self.path}' models {self.spec.facts.example_word}s, which have one decoding: --decode, "
                "--beam-width and --temperature choose how sentences are read off p(x|z), for a run on text. Leave "
                "them out."
            )

    @torch.no_grad()
    def sample(
        self,
        num: int,
        generator: torch.Generator | None = None,
        y: torch.Tensor | None = None,
        decoding: Decoding | None = None,
    ) -> torch.Tensor:
        """Samples, z ~ p(z): images as the means of p(x|z), (num, C, H, W); rows of a table drawn from p(x|z),
        (num, D) in the model's numbers (vaekit.data.tables.decode_rows gives them in the table's units); sentences
        drawn from p(x|z) token by token, (num, T), or read off p(x|z) by `decoding` (a text run's: a temperature,
        greedy, beam search). A conditional model draws class y[i] for sample i."""
        if decoding is not None:
            self.check_decoding(decoding)
            cond = self.cond(y, num)
            z = self.model.prior(**cond).sample((num,), generator=generator)  # (num, D), as model.draw draws it
            return decoding.rows(self.model.likelihood(z, **cond), generator)
        if self.spec.facts.sample_draws:
            return self.model.draw(num, generator, **self.cond(y, num))
        return self.model.sample(num, generator, **self.cond(y, num))

    def prior_note(self) -> str | None:
        """What a user should know about the prior samples come from: set for a VQ-VAE before train-prior."""
        if "codes" not in self.capabilities or self.model.prior_name != "uniform":
            return None
        return (
            f"the run has no trained prior ({PRIOR}): codes are drawn uniformly, the prior the VQ-VAE trained "
            f"under, so samples will not look like the data. Fit one with: vaekit train-prior {self.path}"
        )

    def encode(self, x: torch.Tensor, batch_size: int = 1000, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latent means (N, D) float: E_q[z|x] of a VAE, the top layer's of a hierarchical VAE (`latent_vector`)."""
        self.require("latent_vector", "encoding to latent means")
        x = self.check_data(x)
        cond = self.labels_of(x, y)
        return torch.cat([self.model.encode(xb, **cb) for xb, cb in batches(x, cond, batch_size)])

    @torch.no_grad()
    def likelihood_at(
        self, z: torch.Tensor, generator: torch.Generator | None = None, y: torch.Tensor | None = None
    ) -> Distribution:
        """p(x|z) at latent vectors z (N, D) as `encode` gives them: batch shape (N,) (its mean is what a decoded
        image shows; a table's `column_log_prob` scores each column). A hierarchical model's z is its top layer, the
        lower layers at their conditional prior means, or drawn from them with `generator`."""
        self.require("latent_vector", "decoding latent vectors")
        z = z.to(self.device)
        cond = self.cond(y, z.shape[0])
        if "layers" not in self.capabilities:
            return self.model.likelihood(z, **cond)
        given = [None] * (len(self.model.layer_dims) - 1) + [z]
        layers = self.model.descend(None, (), generator, given=given, use_mean=generator is None)
        return self.model.likelihood(torch.cat(layers.z, dim=-1), **cond)

    def decode(
        self,
        z: torch.Tensor,
        decoding: Decoding,
        generator: torch.Generator | None = None,
        y: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Sentences (N, T) int64 read off p(x|z) at latent vectors z (N, D) by `decoding` (a text run's)."""
        self.check_decoding(decoding)
        return decoding.rows(self.likelihood_at(z, y=y), generator)

    def encode_codes(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Code maps (N, h, w) int64 of a model with a discrete latent grid (`codes`: the VQ-VAE)."""
        self.require("codes", "encoding to code maps")
        x = self.check_data(x)
        return torch.cat([self.model.encode_codes(b) for b in x.split(batch_size)])

    def reconstruct(
        self,
        x: torch.Tensor,
        generator: torch.Generator | None = None,
        y: torch.Tensor | None = None,
        decoding: Decoding | None = None,
    ) -> torch.Tensor:
        """The mean of p(x|z) at the posterior mean of z (at a posterior draw when a generator is given); a text
        run's sentences read off p(x|z) at the posterior mean by `decoding` (greedy by default)."""
        if getattr(self.model, "latent_dim", None) == 0:
            raise VaekitError(
                f"run '{self.path}' is a model.type={self.config.model.type}, which has no z to reconstruct through: "
                "it would write the same sentence for every input. Reconstruct with a run of a VAE; sample from "
                "this one."
            )
        x = self.check_data(x)
        if decoding is not None:
            self.check_decoding(decoding)
            return self.decode(self.encode(x, y=y), decoding, generator, y)
        return self.model.reconstruct(x, generator, **self.labels_of(x, y))

    def _incomplete_rows(self, frame: pd.DataFrame, source: str) -> tuple[torch.Tensor, dict]:
        """A table's rows as the model's numbers (N, D), NaN where a cell is missing, and the model's conditioning."""
        if self.spec.kind != "table":
            raise DataError(
                f"run '{self.path}' was trained on {self.spec.kind}s: imputation fills in the missing cells of a table."
            )
        x, y = encode_frame(frame.copy(), self.spec, source, missing="model")
        x = self.check_data(x, source)
        return x, (self.labels_of(x, y) if "labels" in self.capabilities else {})

    def impute(
        self,
        frame: pd.DataFrame,
        num_samples: int = 1000,
        generator: torch.Generator | None = None,
        source: str = "the table",
    ) -> pd.DataFrame:
        """The table `frame` with each missing cell (NaN, or None) of the run's columns filled in by the
        self-normalized importance-weighted conditional mean E[x_mis | x_obs] with `num_samples` draws of z (MIWAE's
        single imputation; a binary or categorical column gets its most probable category). Observed cells, and
        columns the run does not model, are returned as they are; values come in the table's units and dtypes.

        Made for a run trained with data.missing=model (its encoder read the mask of observed cells); any table run
        imputes, its encoder then reading a missing cell as 0.
        """
        frame = frame.rename(columns=str)
        x, cond = self._incomplete_rows(frame, source)
        completed = impute_rows(self.model, x, num_samples, generator, **cond)  # (N, D)
        return fill_missing(frame, completed, self.spec)

    def impute_draws(
        self,
        frame: pd.DataFrame,
        num_draws: int,
        num_samples: int = 1000,
        generator: torch.Generator | None = None,
        source: str = "the table",
    ) -> ImputedDraws:
        """`num_draws` completions of the table by sampling importance resampling over `num_samples` draws of z
        (MIWAE's multiple imputation), one after the other in a frame with a first column `draw`, and the spread of
        each cell's draws (vaekit.evaluate.imputation.draw_spread)."""
        frame = frame.rename(columns=str)
        if DRAW_COLUMN in frame.columns:
            raise DataError(f"{source} has a column '{DRAW_COLUMN}', the name the draws are told apart by. Rename it.")
        x, cond = self._incomplete_rows(frame, source)
        draws = draw_imputations(self.model, x, num_draws, num_samples, generator, **cond)  # (M, N, D)
        tables = [fill_missing(frame, d, self.spec) for d in draws]
        for m, table in enumerate(tables):
            table.insert(0, DRAW_COLUMN, m)
        spread = draw_spread(draws, self.spec).cpu().numpy()  # (N, D)
        return ImputedDraws(
            pd.concat(tables, ignore_index=True), pd.DataFrame(spread, columns=self.spec.column_names())
        )

    @torch.no_grad()
    def score(
        self,
        x: torch.Tensor,
        num_samples: int = 1000,
        batch_size: int = 100,
        generator: torch.Generator | None = None,
        y: torch.Tensor | None = None,
        transform: Callable[[torch.Tensor, torch.Generator | None], torch.Tensor] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> IwScores:
        """Each example's importance-weighted log p(x) with K = num_samples, the ELBO at the same draws and, for a
        table, each column's share (vaekit.evaluate.likelihood.IwScores), over all of x (N, ...): (N,), (N,), (N, D).

        Nats per example (per row), with every normalizing constant; for finding unusual examples (low scores).
        `transform` (x, generator) -> x is applied to each batch first (a fresh binarization, dequantization noise,
        as in training); `progress(n)` is called with the number of examples done after each batch.
        """
        if model_entry(self.config.model.type).evaluation != "likelihood":
            raise VaekitError(
                f"run '{self.path}' is a model.type={self.config.model.type}, which has no importance-weighted "
                "log p(x) to score examples by. Score with a run of a VAE (vae, iwae, cvae, hvae, ...)."
            )
        if num_samples < 1 or batch_size < 1:
            raise VaekitError(f"num_samples and batch_size must be at least 1, got {num_samples} and {batch_size}.")
        x = self.check_data(x)
        if x.shape[0] == 0:
            raise DataError("there is nothing to score: no examples were given.")
        cond = self.labels_of(x, y)
        parts = []
        for xb, cb in batches(x, cond, batch_size):
            if transform is not None:
                xb = transform(xb, generator)
            parts.append(iw_scores(self.model, xb, num_samples, generator, columns=self.spec.kind == "table", **cb))
            if progress:
                progress(xb.shape[0])
        columns = None if parts[0].columns is None else torch.cat([p.columns for p in parts])
        return IwScores(torch.cat([p.log_likelihood for p in parts]), torch.cat([p.elbo for p in parts]), columns)

    def metrics(self) -> list[dict]:
        """One record per completed epoch (a torn last line, left by a crash, is skipped)."""
        return read_epoch_records(self.path / METRICS)


def load_run(path: str | Path, device: str = "cpu", *, prior: bool = True) -> Run:
    """Rebuild the model of a run directory from config.yaml and load model.safetensors (no pickle).

    A VQ-VAE run's prior.safetensors, when present, is loaded and attached too (unless `prior` is False).
    """
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"run directory '{path}' does not exist. Give the --out folder of a `vaekit train` run.")
    config = read_config(path)
    shape = read_data_shape(path / WEIGHTS)  # checks the weights file before anything is built
    spec = read_spec(path)
    if shape != spec.event_shape:
        raise RunError(
            f"'{path / SPEC}' describes examples of shape {spec.event_shape}, but the weights were trained on {shape}: "
            "the files come from different runs. Restore the run's own files, or train it again."
        )
    model = build_model(config.model, spec, seed=config.train.seed)
    load_weights(path / WEIGHTS, model)
    if prior and "codes" in capabilities(config.model) and (path / PRIOR).is_file():
        model.attach_prior(load_prior(path, config, model.num_codes))
    model.to(resolve_device(device)).eval()
    return Run(path, config, model, spec)
