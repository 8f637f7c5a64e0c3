"""Sequences: examples written as text, decoded with the run's tokenizer: a .txt file (one example a line) or a
CSV/TSV/Parquet file with a `text` column (and any extra leading columns, e.g. an interpolation's step)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from vaekit.atomic import atomic_write_text
from vaekit.data.sequences import decode_texts, pad_rows, sequence_warnings, summary_lines
from vaekit.data.tables import write_table
from vaekit.data.tokenizers import tokenizer_for
from vaekit.errors import DataError
from vaekit.spec import DataSpec, Vocabulary
from vaekit.views.base import View


def text_rows(spec: DataSpec, id_lists: Sequence[Sequence[int]], names: Sequence[str]) -> torch.Tensor:
    """Given sentences' token ids (no specials) as rows x (N, T) int64 as the run reads them: the tokens, <eos>, <pad>
    to the spec's T. A DataError, naming the sentence (`names[i]`), when one has no token or more than T - 1."""
    longest = spec.event_shape[0]
    for ids, name in zip(id_lists, names, strict=True):
        if not ids:
            raise DataError(f"{name} has no token: give a few words.")
        if len(ids) >= longest:
            raise DataError(
                f"{name} has {len(ids)} tokens; this run reads at most {longest - 1} (T = {longest} with <eos>). "
                "Give a shorter one."
            )
    return pad_rows([[*ids, Vocabulary.eos_id] for ids in id_lists], longest)


def encode_texts(spec: DataSpec, texts: Sequence[str], names: Sequence[str] | None = None) -> torch.Tensor:
    """Typed sentences read with the run's tokenizer (words outside its vocabulary, and the text "<unk>", as <unk>):
    rows x (N, T) int64 (`text_rows`). names: how an error names each (default: 'sentence 1', ...)."""
    tokenizer = tokenizer_for(spec.vocabulary)
    names = names or [f"sentence {i + 1} ('{t[:40]}')" for i, t in enumerate(texts)]
    return text_rows(spec, [tokenizer.encode(t) for t in texts], names)


def write_texts(spec: DataSpec, x: torch.Tensor, out: Path, columns: dict | None = None, nrow=None) -> None:
    """Sequences x (N, T) as text: one a line (.txt), or a table with a `text` column after `columns`."""
    texts = decode_texts(spec, x)
    if out.suffix.lower() == ".txt":
        atomic_write_text(out, "".join(t + "\n" for t in texts))
        return
    frame = pd.DataFrame({"text": texts})
    for i, (name, values) in enumerate((columns or {}).items()):
        frame.insert(i, name, np.asarray(values))
    write_table(frame, out)


def write_pairs(spec: DataSpec, x: torch.Tensor, recon: torch.Tensor, out: Path) -> str:
    """Each input followed by its reconstruction: lines 'input: ...' / 'reconstruction: ...' and a blank line
    (.txt), or rows told apart by the columns `row` and `version`."""
    if out.suffix.lower() == ".txt":
        pairs = zip(decode_texts(spec, x), decode_texts(spec, recon), strict=True)
        atomic_write_text(out, "".join(f"input: {a}\nreconstruction: {b}\n\n" for a, b in pairs))
        return "each input line followed by its reconstruction"
    n = x.shape[0]
    width = max(x.shape[1], recon.shape[1])
    both = torch.stack([_widen(x, width), _widen(recon, width)], 1).flatten(0, 1)  # (2N, T)
    extra = {"row": np.repeat(np.arange(n), 2), "version": np.tile(np.array(["input", "reconstruction"]), n)}
    write_texts(spec, both, out, extra)
    return "each followed by its reconstruction (columns row, version)"


def _widen(x: torch.Tensor, width: int) -> torch.Tensor:
    """x (N, T) padded with <pad> to (N, width)."""
    return torch.nn.functional.pad(x, (0, width - x.shape[1]), value=0)


SEQUENCE_VIEW = View(
    kind="sequence",
    suffixes=(".txt", ".csv", ".tsv", ".parquet"),
    samples_file="samples.txt",
    write_examples=write_texts,
    write_pairs=write_pairs,
    shape_text=lambda spec: f"sequences of up to {spec.event_shape[0]} tokens ({spec.levels:,}-token vocabulary)",
    summary_lines=summary_lines,
    data_warnings=sequence_warnings,
)

__all__ = ["SEQUENCE_VIEW", "decode_texts", "encode_texts", "text_rows"]
