"""The MOSES presets (moses-vae, moses-charrnn) load with MOSES's settings, and each trains one step through the CLI
on a tiny SMILES file of its own (data.source overridden, tiny sizes by overrides), read as atom-level tokens."""

import pytest

from vaekit.cli.main import main
from vaekit.config import load_config
from vaekit.run import load_run

SMILES = [
    "CCCS(=O)c1ccc2[nH]c(=NC(=O)OC)[nH]c2c1",
    "CC(C)(C)C(=O)C(Oc1ccc(Cl)cc1)n1ccnc1",
    "Cc1c(Cl)cccc1Nc1ncccc1C(=O)OCC(O)CO",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CC1Oc2ccc(Br)cc2N(C)C1=O",
    "O=C(Nc1ccccc1)c1ccccc1F",
    "COc1ccc(CCN)cc1OC",
    "CC(=O)Nc1ccc(O)cc1",
]
TINY = ["model.network.embedding_dim=4", "train.epochs=1", "train.batch_size=64", "train.progress=false"]
TINY_SIZES = {
    "moses-vae": ["model.latent_dim=2", "model.network.hidden=[6]", "model.network.decoder_hidden=[5, 5, 5]"],
    "moses-charrnn": ["model.network.hidden=[5, 5, 5]"],
}


def test_the_presets_follow_moses():
    vae = load_config(preset="moses-vae")
    net = vae.model.network
    assert (vae.model.type, vae.model.latent_dim, net.cell, net.hidden, net.decoder_hidden) == (
        "vae",
        128,
        "gru",
        [256],
        [512, 512, 512],
    )
    # kl_w_end 0.05 per token over the whole run, as a per-molecule weight (x 36.8 tokens per molecule)
    assert vae.objective.warmup_epochs == vae.train.epochs == 100 and vae.objective.warmup_start == 0
    assert vae.objective.beta == pytest.approx(0.05 * 36.8, abs=0.01)
    assert (vae.train.batch_size, vae.train.lr, vae.data.source, vae.data.tokenizer) == (512, 3e-4, "moses", "smiles")
    lm = load_config(preset="moses-charrnn")
    assert (lm.model.type, lm.model.network.cell, lm.model.network.hidden, lm.model.network.dropout) == (
        "lm",
        "lstm",
        [768, 768, 768],
        0.2,
    )
    assert (lm.train.batch_size, lm.train.lr, lm.train.epochs, lm.data.source) == (64, 1e-3, 80, "moses")


@pytest.mark.parametrize("preset", ["moses-vae", "moses-charrnn"])
def test_each_preset_trains_a_step_on_a_smiles_file(preset, tmp_path):
    data = tmp_path / "smiles.txt"
    data.write_text("\n".join(SMILES * 2) + "\n")
    out = tmp_path / "run"
    args = ["train", "--preset", preset, "--data", data, *TINY, *TINY_SIZES[preset], "--out", out]
    assert main([str(a) for a in args]) == 0
    run = load_run(out)
    tokens = set(run.spec.vocabulary.tokens)
    assert run.spec.vocabulary.tokenizer == "smiles" and {"Cl", "[nH]", "Br"} <= tokens and "l" not in tokens
    decoder = run.model.decoder.rnn
    assert decoder.num_layers == 3 and decoder.hidden_size == 5
    if preset == "moses-vae":
        assert run.model.latent_dim == 2 and run.model.encoder.rnn.hidden_size == 6
    samples = (out / "samples.txt").read_text().splitlines()
    assert len(samples) == run.config.train.num_sample_images == 30
