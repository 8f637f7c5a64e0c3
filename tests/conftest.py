"""Shared fixtures: tiny models and tiny data sets made on the spot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tiny_configs import TINY_VAE_RUN
from vaekit.config import ModelConfig, load_config
from vaekit.models import build_model


@pytest.fixture(scope="session", autouse=True)
def own_cache(tmp_path_factory):
    """What vaekit keeps in its cache folder (vaekit.data.sources.cache_dir) goes to a folder of the test session's,
    never to the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg_cache")))
        yield


@pytest.fixture
def tiny_model_config() -> ModelConfig:
    cfg = ModelConfig()
    cfg.latent_dim = 3
    cfg.network.hidden = [16]
    return cfg


@pytest.fixture
def tiny_vae(tiny_model_config):
    return build_model(tiny_model_config, (1, 4, 4), seed=0)


@pytest.fixture
def tiny_images(tmp_path):
    """A .npy file of 120 random 8x8 grayscale uint8 images."""
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npy"
    np.save(path, rng.integers(0, 256, size=(120, 8, 8), dtype=np.uint8))
    return path


@pytest.fixture
def tiny_config(tiny_images):
    """A config that trains in well under a second on tiny_images."""
    return load_config(overrides=[f"data.source={tiny_images}", *TINY_VAE_RUN])


def float64(module: torch.nn.Module) -> torch.nn.Module:
    return module.to(torch.float64)
