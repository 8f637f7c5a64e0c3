"""Name -> builder tables, so that choosing a network, likelihood or objective is a lookup, not an if/elif."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vaekit.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A table of builders for one kind of component (e.g. `likelihood`), filled with `@registry.register`."""

    def __init__(self, kind: str, config_key: str) -> None:
        self.kind = kind
        self.config_key = config_key  # the config key that names an entry, for error messages
        self._builders: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(builder: T) -> T:
            if name in self._builders:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._builders[name] = builder
            return builder

        return add

    def get(self, name: str) -> T:
        if name not in self._builders:
            close = difflib.get_close_matches(name, self.names(), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(
                f"unknown {self.kind} '{name}' (config key '{self.config_key}').{hint} "
                f"Choose one of: {', '.join(self.names())}."
            )
        return self._builders[name]

    def names(self) -> list[str]:
        return sorted(self._builders)


@dataclass(frozen=True)
class ModelEntry:
    """Everything the rest of vaekit may know about one model type, in one place.

    build: (model config, DataSpec) -> the model.
    capabilities: what it can do beyond the contract of vaekit.models.base (names from its CAPABILITIES); a
        config can take some away (`remove_capabilities`, e.g. the VampPrior has no per-dimension KL).
    evaluation: the name of its family of measurements in vaekit.evaluate.by_model (`likelihood`, `codebook`).
    tiny: config overrides for a model small enough for the contract tests.
    remove_capabilities: model config -> the capabilities that config takes away.
    kinds: the kinds of data (vaekit.spec.KINDS) it models.
    """

    build: Callable[[Any, Any], Any]
    capabilities: frozenset[str]
    evaluation: str
    tiny: tuple[str, ...]
    remove_capabilities: Callable[[Any], frozenset[str]] = lambda cfg: frozenset()
    kinds: tuple[str, ...] = ("image", "table")

    def capabilities_for(self, cfg: Any) -> frozenset[str]:
        return self.capabilities - self.remove_capabilities(cfg)


NETWORKS: Registry = Registry("network", "model.network.type")
LIKELIHOODS: Registry = Registry("likelihood", "model.likelihood.type")
MODELS: Registry = Registry("model", "model.type")
OBJECTIVES: Registry = Registry("objective", "objective.name")
EVALUATIONS: Registry = Registry("evaluation", "a model entry's evaluation")  # test metrics, report, log line
