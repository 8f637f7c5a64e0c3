"""Device and precision options. GPU tests carry the `gpu` marker and skip without CUDA."""

import pytest
import torch

from vaekit import load_run, train
from vaekit.errors import ConfigError

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_bf16_autocast_on_cpu_trains_to_finite_values_close_to_fp32(tmp_path, tiny_config):
    fp32 = train(tiny_config, tmp_path / "fp32").metrics()[-1]
    tiny_config.train.precision = "bf16"
    bf16 = train(tiny_config, tmp_path / "bf16").metrics()[-1]
    assert all(torch.isfinite(torch.tensor(v)) for v in bf16.values())
    assert bf16["test_elbo"] == pytest.approx(fp32["test_elbo"], rel=0.05)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_is_a_clear_error(tmp_path, tiny_config):
    tiny_config.train.device = "cuda"
    with pytest.raises(ConfigError, match="no CUDA device"):
        train(tiny_config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("precision, compile", [("fp32", False), ("bf16", False), ("fp32", True)])
def test_cuda_run_trains_and_loads_on_cpu(tmp_path, tiny_config, precision, compile):
    tiny_config.train.device = "cuda"
    tiny_config.train.precision = precision
    tiny_config.train.compile = compile
    run = train(tiny_config, tmp_path / "run")
    assert run.device.type == "cuda"
    metrics = run.metrics()[-1]
    assert torch.isfinite(torch.tensor(metrics["test_elbo"]))
    on_cpu = load_run(tmp_path / "run")
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(on_cpu.encode(x), run.encode(x).cpu(), atol=1e-4, rtol=1e-4)


def test_under_bf16_autocast_distribution_parameters_stay_float32(tiny_vae):
    x = torch.rand(4, 1, 4, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        qz_x = tiny_vae.posterior(x)
        z = qz_x.rsample(generator=torch.Generator().manual_seed(0))
        px_z = tiny_vae.likelihood(z)
        assert tiny_vae.decoder(z).dtype == torch.bfloat16  # the matrix products do run in bf16
        assert qz_x.mean.dtype == z.dtype == torch.float32
        assert px_z.log_prob(x).dtype == torch.float32


def test_precision_auto_is_bf16_only_on_native_hardware():
    from vaekit.train.distributed import autocast_dtype

    cpu = torch.device("cpu")
    assert autocast_dtype("fp32", cpu) is None and autocast_dtype("bf16", cpu) == torch.bfloat16
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert autocast_dtype("auto", cpu) == (torch.bfloat16 if native else None)
