"""Conv networks take images of any size: odd, tiny, non-square, RGB; shapes that divide keep their architecture."""

import pytest
import torch

from tiny_configs import TINY_VQ
from vaekit.config import load_config
from vaekit.models import build_model, capabilities
from vaekit.nn.strided import StridedGrid
from vaekit.objectives import build_objective

# Every model type whose body is convolutional: the conv network under vae, cvae and hvae (default channels
# [32, 64], small FC layers), and the VQ-VAE's residual encoder and decoder.
CONV_MODELS = {
    "vae": ["model.network.type=conv", "model.network.hidden=[16]", "model.latent_dim=3"],
    "vae-dlogistic": [
        "model.network.type=conv",
        "model.network.hidden=[16]",
        "model.latent_dim=3",
        "model.likelihood.type=discretized_logistic",
        "model.likelihood.components=2",
        "model.likelihood.levels=256",
    ],
    "cvae": ["model.type=cvae", "model.num_classes=3", "model.network.type=conv", "model.network.hidden=[16]"],
    "hvae": [
        "model.type=hvae",
        "model.network.type=conv",
        "model.network.hidden=[16]",
        "model.latent_dim=3",
        "model.hierarchy.upper_dims=[2]",
        "model.hierarchy.hidden=[8]",
    ],
    "vqvae": TINY_VQ,
}
SHAPES = [(1, 105, 105), (3, 64, 64), (1, 28, 28), (1, 27, 27), (1, 1, 1), (3, 5, 9)]


def _setup(name: str, shape):
    cfg = load_config(overrides=CONV_MODELS[name])
    model = build_model(cfg.model, shape, seed=0)
    objective = build_objective(cfg.objective, capabilities=capabilities(cfg.model))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, *shape, generator=g)
    x = x.round() if cfg.model.likelihood.type == "bernoulli" else (x * 255).round() / 255
    cond = {"y": torch.tensor([0, 1, 2, 0])} if cfg.model.type == "cvae" else {}
    return cfg, model, objective, x, cond


def _likelihood_of_reconstruction(cfg, model, x, cond):
    if cfg.model.type == "vqvae":
        return model.likelihood(model.quantize(x).z_q)
    return model.likelihood(model.posterior(x, **cond).mean, **cond)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(CONV_MODELS))
def test_every_conv_model_trains_on_images_of_any_size(name, shape):
    cfg, model, objective, x, cond = _setup(name, shape)
    px = _likelihood_of_reconstruction(cfg, model, x, cond)
    assert px.event_shape == shape
    log_px = px.log_prob(x)
    assert log_px.shape == (4,) and torch.isfinite(log_px).all()
    assert model.reconstruct(x, **cond).shape == x.shape
    assert model.sample(4, generator=torch.Generator().manual_seed(1), **cond).shape == x.shape

    # one optimizer step: a finite loss, a gradient on every trainable weight, weights that change
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    loss = objective(model, x, step=0, generator=torch.Generator().manual_seed(2), **cond).loss
    assert torch.isfinite(loss)
    loss.backward()
    trained = [(n, p) for n, p in model.named_parameters() if p.grad is not None]
    assert {n.split(".")[0] for n, _ in trained} >= {"encoder", "decoder"}
    assert all(torch.isfinite(p.grad).all() for _, p in trained)
    optimizer.step()
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
    assert torch.isfinite(objective(model, x, step=1, generator=torch.Generator().manual_seed(2), **cond).loss)


@pytest.mark.parametrize("shape", [(1, 27, 27), (3, 5, 9), (1, 1, 1)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", ["vae", "vqvae"])
def test_every_pixel_reaches_the_encoder_and_every_output_pixel_depends_on_the_code(name, shape):
    """Padding keeps every pixel inside the receptive field and cropping keeps the image's own positions."""
    cfg, model, _, x, _ = _setup(name, shape)
    x.requires_grad_(True)
    encode = model.encoder if name == "vqvae" else (lambda images: model.posterior(images).mean)
    code = encode(x)  # (B, D) or (B, D, h, w)
    (grad,) = torch.autograd.grad(code.square().sum(), x)
    # over a batch, so that a ReLU that happens to be off for one image does not hide a pixel
    assert (grad.abs().sum(0) != 0).all(), "a pixel does not influence the encoding"
    code = code[:1].detach().requires_grad_(True)
    out = model.decoder(code)  # (1, C', H, W)
    assert out.shape[-2:] == shape[-2:]
    for i in range(out.shape[-2]):
        for j in range(out.shape[-1]):
            (g,) = torch.autograd.grad(out[0, 0, i, j], code, retain_graph=True)
            assert g.abs().sum() > 0, f"output pixel ({i}, {j}) does not depend on the code"
        if i >= 3:  # a few rows show the property; the rest only cost time
            break


@pytest.mark.parametrize(
    "sides, stages, padded, map_size",
    [
        ((28, 28), 2, (28, 28), (7, 7)),
        ((105, 105), 2, (108, 108), (27, 27)),
        ((1, 1), 3, (8, 8), (1, 1)),
        ((27, 9), 2, (28, 12), (7, 3)),
        ((64, 64), 4, (64, 64), (4, 4)),
        ((5, 7), 0, (5, 7), (5, 7)),
    ],
)
def test_grid_pads_to_the_next_multiple_and_crops_back_to_the_image(sides, stages, padded, map_size):
    grid = StridedGrid(*sides, stages)
    assert grid.padded == padded and grid.map_size == map_size
    x = torch.randn(2, 3, *sides)
    p = grid.pad(x)
    assert p.shape == (2, 3, *padded)
    assert torch.equal(grid.crop(p), x)
    assert torch.count_nonzero(p) == torch.count_nonzero(x)  # the border is zeros
    if padded == sides:
        assert p is x and grid.crop(p) is x  # nothing padded: the same tensor, no copy


def test_grid_names_the_size_it_expected():
    grid = StridedGrid(28, 28, 2)
    with pytest.raises(ValueError, match="built for 28x28 images but got 30x30"):
        grid.pad(torch.zeros(1, 1, 30, 30))
    with pytest.raises(ValueError, match="positive image sides"):
        StridedGrid(0, 28, 2)


# (parameters, sum of all initial weights at seed 0, state-dict entries), measured before padding existed
# (commit d80232f): shapes whose sides divide by 2**stages must keep exactly this architecture and these weights.
BEFORE_PADDING = [
    ((1, 28, 28), ["model.network.type=conv"], 3312873, 5.090782, 16),
    ((3, 32, 32), ["model.network.type=conv"], 4298923, 18.224865, 16),
    (
        (1, 64, 64),
        ["model.network.type=conv", "model.network.channels=[32,32,64,64]", "model.network.hidden=[256]"],
        771945,
        27.511014,
        24,
    ),
    ((1, 28, 28), ["preset:hvae-mnist"], 471809, 15.343566, 24),
    ((1, 28, 28), ["preset:mnist-vqvae"], 72593, 140.719479, 35),
]


@pytest.mark.parametrize("shape, overrides, count, weight_sum, entries", BEFORE_PADDING)
def test_sides_that_divide_keep_the_architecture_and_weights_they_had(shape, overrides, count, weight_sum, entries):
    preset = next((o.split(":")[1] for o in overrides if o.startswith("preset:")), None)
    cfg = load_config(preset=preset, overrides=[o for o in overrides if not o.startswith("preset:")])
    model = build_model(cfg.model, shape, seed=0)
    state = model.state_dict()
    assert sum(p.numel() for p in model.parameters()) == count
    assert len(state) == entries
    total = sum(t.double().sum().item() for t in state.values() if t.is_floating_point())
    assert total == pytest.approx(weight_sum, abs=1e-5)
    grids = [m.grid for m in model.modules() if hasattr(m, "grid")]
    assert grids and all(g.padded == shape[1:] for g in grids)  # no padding added
