"""Property-guided moves in latent space (docs/text.md, "Molecules"): sampling.property_path walks along a linear
predictor's gradient, so the predicted property rises by step_size * |w| per step; and the recipe end to end on a
tiny SMILES VAE: encode molecules, fit a Ridge predictor of RDKit's logP from z, walk, decode greedily."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaekit.cli.main import main
from vaekit.nn.tokens import Decoding
from vaekit.run import load_run
from vaekit.sampling import property_path
from vaekit.views.sequences import decode_texts, encode_texts

SMILES = ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "CCOC", "c1ccncc1", "OCCO", "CNC", "CC(C)C", "CCCCCC", "CCCl"]


def test_a_linear_predictor_rises_by_step_size_times_its_norm_per_step():
    generator = torch.Generator().manual_seed(0)
    w = torch.randn(6, generator=generator, dtype=torch.float64)  # (D,)
    z0 = torch.randn(3, 6, generator=generator, dtype=torch.float64)  # (N, D)
    path = property_path(z0, w, steps=5, step_size=0.5)  # (K, N, D)
    assert path.shape == (5, 3, 6)
    torch.testing.assert_close(path[0], z0)
    rises = (path @ w).diff(dim=0)  # (K - 1, N): f(z_{k+1}) - f(z_k)
    torch.testing.assert_close(rises, torch.full_like(rises, 0.5 * float(w.norm())))
    orthogonal = torch.linalg.svd(w[None]).Vh[1:]  # (D - 1, D): directions f does not see
    torch.testing.assert_close((path - z0) @ orthogonal.T, torch.zeros(5, 3, 5, dtype=torch.float64))
    assert property_path(z0[0], w, 4, 1.0).shape == (4, 6)


@pytest.mark.parametrize("direction", [torch.zeros(3), torch.tensor([1.0, float("nan"), 0.0])])
def test_a_direction_with_no_gradient_is_refused(direction):
    with pytest.raises(ValueError, match="direction"):
        property_path(torch.zeros(3), direction, 3, 1.0)


def test_the_recipe_moves_a_molecule_along_predicted_logp(tmp_path):
    from rdkit.Chem import Crippen
    from sklearn.linear_model import Ridge

    from vaekit.evaluate.molecules import parse

    (tmp_path / "m.txt").write_text("\n".join(SMILES * 3) + "\n")
    tiny = ["model.network.type=recurrent", "model.network.cell=gru", "model.network.hidden=[32]"]
    tiny += ["model.network.embedding_dim=16", "model.latent_dim=4", "train.epochs=15", "train.batch_size=6"]
    tiny += ["train.progress=false", "train.num_sample_images=4", "data.tokenizer=smiles"]
    assert main(["train", *tiny, f"data.source={tmp_path / 'm.txt'}", "--out", str(tmp_path / "run")]) == 0

    # the recipe of docs/text.md
    run = load_run(tmp_path / "run")
    z = run.encode(encode_texts(run.spec, SMILES)).double()  # (N, D) posterior means
    logp = np.array([Crippen.MolLogP(parse(s)) for s in SMILES])  # (N,)
    predictor = Ridge(alpha=1e-3).fit(z.numpy(), logp)
    w = torch.from_numpy(predictor.coef_)  # (D,): the gradient of the predicted logP
    step = float((z @ (w / w.norm())).std())  # one standard deviation of the molecules along w
    path = property_path(z[0], w, steps=6, step_size=step)  # (K, D), from the first molecule
    predicted = predictor.predict(path.numpy())  # (K,)
    decoded = decode_texts(run.spec, run.decode(path.float(), Decoding("greedy")))  # K SMILES strings
    measured = [Crippen.MolLogP(m) for m in map(parse, decoded) if m is not None]

    assert np.all(np.diff(predicted) > 0)  # the predicted property rises at every step
    np.testing.assert_allclose(np.diff(predicted), step * np.linalg.norm(predictor.coef_), rtol=1e-9)
    assert predictor.score(z.numpy(), logp) > 0  # z carries some of logP
    assert len(decoded) == 6 and all(isinstance(s, str) for s in decoded)
    assert all(np.isfinite(measured))
