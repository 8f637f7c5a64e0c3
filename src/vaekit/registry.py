"""Name -> builder tables, so that choosing a network, likelihood or objective is a lookup, not an if/elif.

A family of config variants (model types, objectives, likelihoods, priors, data kinds) also registers each
variant's config schema here, under the entry's name (vaekit.config defines and registers them: the config tree is
parsed before any builder module is imported). `registry.schema(name)` is the schema of entry `name`.
"""

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
        self._schemas: dict[str, type] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(builder: T) -> T:
            if name in self._builders:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            if self._schemas and name not in self._schemas:
                # an entry whose config could not be written would be unreachable: register its schema first
                raise ValueError(f"{self.kind} '{name}' has no config schema (register one with register_schema)")
            self._builders[name] = builder
            return builder

        return add

    def register_schema(self, name: str) -> Callable[[type], type]:
        """Register the config schema of entry `name` (a dataclass of vaekit.config; its keys are the entry's)."""

        def add(schema: type) -> type:
            if name in self._schemas:
                raise ValueError(f"{self.kind} '{name}' has two config schemas")
            self._schemas[name] = schema
            return schema

        return add

    def schema(self, name: str) -> type:
        """The config schema of entry `name`; a ConfigError naming the choices if there is none."""
        if name not in self._schemas:
            raise self._unknown(name, sorted(self._schemas))
        return self._schemas[name]

    def schema_names(self) -> list[str]:
        """The names with a schema, in the order they were registered (the commonest first)."""
        return list(self._schemas)

    def _unknown(self, name: str, names: list[str]) -> ConfigError:
        close = difflib.get_close_matches(str(name), names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return ConfigError(
            f"unknown {self.kind} '{name}' (config key '{self.config_key}').{hint} Choose one of: {', '.join(names)}."
        )

    def get(self, name: str) -> T:
        if name not in self._builders:
            raise self._unknown(name, self.names())
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
    Its config schema (the keys of model.type=<name>) is MODELS.schema(name), registered by vaekit.config.
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
PRIORS: Registry = Registry("prior", "model.prior.type")
DATA_KINDS: Registry = Registry("data kind", "data.kind")  # schemas only so far; the readers choose by kind
EVALUATIONS: Registry = Registry("evaluation", "a model entry's evaluation")  # test metrics, report, log line
