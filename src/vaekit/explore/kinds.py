"""What the explorer shows of each kind of data, looked up by `spec.kind` (one table, `KINDS`).

image   examples as PNG data: URIs (the page scales them up, pixelated); a decoded grid under the map; drawing or
        uploading an image, its nearest training images
table   examples as rows in the table's own units (categories by name); beside a decoded row, one bar per column:
        where a real or count value lies between the test split's min and max, the probability of each category
sequence  sentences, decoded with the run's tokenizer (greedy or beam search); a typed sentence encoded, its nearest
        training sentences, homotopies between two typed sentences (vaekit.explore.sequences); on a SMILES run each
        string also drawn as a molecule (SVG) and marked valid or not
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch.distributions import Distribution

from vaekit.explore import sequences
from vaekit.plotting import image_grid
from vaekit.report.views import load_split, png_uri
from vaekit.views.tables import category_probabilities, column_bars, column_ranges, rows_json

if TYPE_CHECKING:
    from vaekit.explore.state import Explorer

NEIGHBOUR_IMAGES = 10_000  # training images searched for the nearest neighbours of an uploaded image


def uri(images: torch.Tensor, nrow: int | None = None, pad: int = 0) -> str:
    """PNG data: URI of images (N, C, H, W) at their own size (the page scales them up, pixelated)."""
    return png_uri(image_grid(images, nrow=nrow, pad=pad))


@dataclass(frozen=True)
class ExploreKind:
    """What differs by kind in the explorer. Each function gets the Explorer (its run, its test split)."""

    image_tools: bool  # the page's "Your image" panel: drawing or uploading an image, nearest training images
    prepare: Callable[[Explorer], None]  # what the kind keeps from the data at startup
    example: Callable[[Explorer, torch.Tensor], dict]  # one example (1, *event_shape) -> what the page shows of it
    path: Callable[[Explorer, torch.Tensor], dict]  # decoded points of a path (K, *event_shape), in order
    # p(x|z) of one z (batch (1,)), and how to decode it (a kind with `decodings`; None: its default) -> what the
    # page shows
    decoded: Callable[[Explorer, Distribution, sequences.Decoding | None], dict]
    map_grid: Callable[[Explorer, Distribution], str | None]  # p(x|z) over the map's grid (G G,) -> a picture
    info: Callable[[Explorer], dict]  # what the page needs to lay itself out
    decodings: tuple[str, ...] = ()  # the ways a decode request may choose (the first the default); () none
    text_tools: bool = False  # the page's "Your sentence" panel and homotopies between typed sentences


def _prepare_images(ex: Explorer) -> None:
    ex.train = load_split(ex.run, "train", NEIGHBOUR_IMAGES)
    ex.train_flat = ex.train.x.flatten(1)  # (N, P)


def _prepare_table(ex: Explorer) -> None:
    ex.ranges = column_ranges(ex.run.spec, ex.test.x.cpu())  # the ends of the bars: the test split's min and max


def _table_decoded(ex: Explorer, px_z: Distribution, decoding=None) -> dict:
    spec = ex.run.spec
    point = px_z.mean  # (1, D) point values in the model's numbers
    row = rows_json(spec, point)[0]
    probabilities = [p if p is None else p[0] for p in category_probabilities(px_z, spec, point)]
    return {"row": row, "bars": column_bars(spec, row, probabilities, ex.ranges)}


def _table_info(ex: Explorer) -> dict:
    spec = ex.run.spec
    columns = [
        {"name": c.name, "type": c.type, "categories": list(c.categories), "range": span}
        for c, span in zip(spec.columns, ex.ranges, strict=True)
    ]
    label = {"name": spec.label.name, "categories": list(spec.label.categories)} if spec.label else None
    return {"columns": columns, "label_column": label}


KINDS: dict[str, ExploreKind] = {
    "image": ExploreKind(
        image_tools=True,
        prepare=_prepare_images,
        example=lambda ex, x: {"image": uri(x)},
        path=lambda ex, x: {"images": uri(x, nrow=x.shape[0], pad=1)},
        decoded=lambda ex, px_z, decoding=None: {"image": uri(px_z.mean)},
        map_grid=lambda ex, px_z: uri(px_z.mean, nrow=round(px_z.batch_shape[0] ** 0.5)),
        info=lambda ex: {},
    ),
    "table": ExploreKind(
        image_tools=False,
        prepare=_prepare_table,
        example=lambda ex, x: {"row": rows_json(ex.run.spec, x)[0]},
        path=lambda ex, x: {"rows": rows_json(ex.run.spec, x)},
        decoded=_table_decoded,
        map_grid=lambda ex, px_z: None,  # a grid of decoded rows would not fit on the map: a click shows a row
        info=_table_info,
    ),
    "sequence": ExploreKind(
        image_tools=False,
        prepare=sequences.prepare,
        example=sequences.example_text,
        path=sequences.path_texts,
        decoded=sequences.decoded,
        map_grid=lambda ex, px_z: None,  # sentences do not tile a plane: a click shows one
        info=sequences.info,
        decodings=sequences.DECODINGS,
        text_tools=True,
    ),
}
