"""Score each example of a data source by a trained run: importance-weighted log p(x), the ELBO, and for a table each
column's share, as a DataFrame keyed by the row of the file (a table) or the position in the split (images)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch

from vaekit.data.sequences import decode_texts
from vaekit.data.tables import TABLE_SOURCES, encode_frame, read_source
from vaekit.errors import DataError
from vaekit.run import Run
from vaekit.workflow.evaluation import data_config, evaluation_split, pixel_measure

LOG_LIKELIHOOD, ELBO, LATENT, TEXT = "log_likelihood", "elbo", "latent", "text"
COLUMN_PREFIX = "log_p_"  # a table column's share: log_p_<column>


def score_table(
    run: Run,
    source: str,
    *,
    num_samples: int = 1000,
    batch_size: int = 100,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Every row of a table file (or bundled table) `source`, read as the run's spec says, scored.

    Columns: `row` (the row of the file, 0 for the first after the header; a .npz's train rows, then its test rows),
    `log_likelihood` (importance-weighted log p(x), nats), `elbo`, one `log_p_<column>` per column (its share under
    the importance-weighted posterior) and `latent`, with log_likelihood = sum of log_p_* + latent
    (vaekit.evaluate.likelihood.IwScores). A conditional model reads each row's label from the label column.
    """
    train, test, read = read_source(source)
    frame = train if test is None else pd.concat([train, test], ignore_index=True)
    origin = f"table '{source}'" if source in TABLE_SOURCES else read
    x, y = encode_frame(frame, run.spec, origin)  # refuses missing cells, unseen categories, absent columns
    if x.shape[0] == 0:
        raise DataError(f"{origin} has no rows to score.")
    generator = torch.Generator(device=run.device).manual_seed(seed)
    y = y if "labels" in run.capabilities else None
    scores = run.score(x, num_samples, batch_size, generator, y=y, progress=progress)
    out = pd.DataFrame({"row": frame.index.to_numpy()})
    out[LOG_LIKELIHOOD] = scores.log_likelihood.double().cpu().numpy()
    out[ELBO] = scores.elbo.double().cpu().numpy()
    columns = scores.columns.double().cpu().numpy()  # (N, D)
    for j, name in enumerate(run.spec.column_names()):
        out[COLUMN_PREFIX + name] = columns[:, j]
    out[LATENT] = scores.latent.double().cpu().numpy()
    return out


def score_images(
    run: Run,
    data: str | None = None,
    data_dir: str | None = None,
    split: str = "test",
    *,
    num_samples: int = 1000,
    batch_size: int = 100,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Each image (sentence) of a split of `data` (the run's own data when None), read through the run's data
    pipeline, scored.

    Columns: `index` (the example's position in the split), `log_likelihood` (importance-weighted log p(x), nats per
    image or sentence), `elbo`; a sentence's `text` as the model read it (words outside the vocabulary as <unk>);
    an image's `bits_per_dim` where the likelihood makes it one (a probability of the pixels' values; for a
    density on dequantized pixels, its upper bound: vaekit.evaluate.likelihood.PixelMeasure). A dynamic
    binarization or a dequantization draws fresh noise with `seed`, as `vaekit evaluate` does.
    """
    config = data_config(run, data, data_dir)
    x, cond, loaded, _ = evaluation_split(run, config, split, None, seed)
    generator = torch.Generator(device=run.device).manual_seed(seed)
    scores = run.score(
        x,
        num_samples,
        batch_size,
        generator,
        y=cond.get("y"),
        transform=loaded.binarization.per_batch,
        progress=progress,
    )
    out = pd.DataFrame({"index": range(x.shape[0])})
    out[LOG_LIKELIHOOD] = scores.log_likelihood.double().cpu().numpy()
    out[ELBO] = scores.elbo.double().cpu().numpy()
    if run.spec.kind == "sequence":  # nats per sentence; the sentence as the model read it (<unk> written)
        out[TEXT] = decode_texts(run.spec, x)
        return out
    bits = pixel_measure(run, loaded).example_bits_per_dim(scores.log_likelihood.double(), run.spec.num_dims)
    if bits is not None:
        out["bits_per_dim"] = bits.cpu().numpy()
    return out


def score_source(
    run: Run,
    data: str | None = None,
    data_dir: str | None = None,
    split: str = "test",
    *,
    num_samples: int = 1000,
    batch_size: int = 100,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """The scores of `data` by the run's kind: every row of a table (`score_table`: `split` does not apply, a file
    to score is new data), or a split of images or sentences (`score_images`)."""
    options = {"num_samples": num_samples, "batch_size": batch_size, "seed": seed, "progress": progress}
    if run.spec.kind == "table":
        return score_table(run, data or run.config.data.source, **options)
    return score_images(run, data, data_dir, split, **options)
