"""Workflows that wire data, models, objectives and the training loop into runs: training a model (`training`),
fitting a VQ-VAE's code prior (`prior`), both through one `fit`; and evaluating a run (`evaluation`,
`disentanglement`). This layer sits above vaekit.evaluate and vaekit.run, which it uses."""
