"""Overrides for tiny models that the tests share (one place to change when a model's config changes)."""

# A VAE run on tiny images that trains in well under a second.
TINY_VAE_RUN = [
    "model.latent_dim=2",
    "model.network.hidden=[16]",
    "train.epochs=2",
    "train.batch_size=32",
    "train.progress=false",
    "train.num_sample_images=4",
]

# A table VAE over mixed columns, small batches and a quarter of the rows held out (add train.epochs and the sample
# count a test needs).
TINY_TABLE_RUN = [
    "model.latent_dim=2",
    "model.network.hidden=[16]",
    "model.likelihood.type=columns",
    "model.likelihood.learn_sigma=per_column",
    "train.batch_size=16",
    "train.progress=false",
    "data.test_fraction=0.25",
]

TINY_VQ = [
    "model.type=vqvae",
    "objective.name=vq",
    "model.vq.num_codes=6",
    "model.vq.embedding_dim=3",
    "model.vq.hidden_channels=8",
    "model.vq.num_residual_blocks=1",
]
TINY_PRIOR = ["prior.hidden_channels=8", "prior.num_layers=2"]

# A VQ run that trains in a second: revival on, dynamic binarization, small batches.
TINY_VQ_RUN = [
    *TINY_VQ,
    "model.vq.num_codes=8",
    "model.vq.embedding_dim=4",
    "objective.revive_every=2",
    "data.binarize=dynamic",
    *TINY_PRIOR,
    "train.batch_size=32",
    "train.num_sample_images=4",
    "train.progress=false",
]
