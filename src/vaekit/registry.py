"""Name -> builder tables, so that choosing a network, likelihood or objective is a lookup, not an if/elif."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Generic, TypeVar

from vaekit.errors import ConfigError

T = TypeVar("T", bound=Callable)


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


NETWORKS: Registry = Registry("network", "model.network.type")
LIKELIHOODS: Registry = Registry("likelihood", "model.likelihood.type")
MODELS: Registry = Registry("model", "model.type")
OBJECTIVES: Registry = Registry("objective", "objective.name")
EVALUATIONS: Registry = Registry("evaluation", "model.type")  # per model type: test metrics, report, log line
