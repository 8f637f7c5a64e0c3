"""What the explorer shows of text (spec.kind "sequence"): sentences, decoded with the run's tokenizer.

A latent vector decodes to one sentence, greedily or by beam search (vaekit.nn.tokens), with its log p(x|z). A
typed sentence is tokenized with the run's tokenizer (words outside the vocabulary become <unk>), encoded to its
posterior mean, decoded back, and its nearest training sentences found by the distance between posterior means.
Two typed sentences are joined by a homotopy (Bowman et al. 2016): the decodings of points on the straight line
between their posterior means. Every request is bounded (MAX_TEXT_CHARS, MAX_NEIGHBOURS, MAX_BEAM_WIDTH).

A SMILES run's strings are molecules: every string returned (a decoding, a test or typed molecule as the model reads
it, a neighbour, each point of a path and its ends) comes with `valid` (RDKit parses it) and `drawing` (an SVG
data: URI, None when invalid), from vaekit.views.molecules: flat beside a `text`, or as a list `molecules` beside a
list `texts` (`end_molecules` beside `ends`). Other text runs get neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch.distributions import Distribution

from vaekit.data.tokenizers import tokenizer_for
from vaekit.nn.tokens import Decoding
from vaekit.report.views import load_split
from vaekit.sampling import latent_path
from vaekit.spec import SPECIALS, Vocabulary
from vaekit.views.molecules import LARGE, SMALL, molecule_fields
from vaekit.views.sequences import decode_texts, text_rows

if TYPE_CHECKING:
    from vaekit.explore.state import Explorer

MAX_TEXT_CHARS = 1000  # characters of a typed sentence
MAX_NEIGHBOURS = 20  # nearest training sentences returned
MAX_BEAM_WIDTH = 16  # beams of a beam-search decoding
NEIGHBOUR_SENTENCES = 10_000  # training sentences searched for the nearest neighbours
DECODINGS = ("greedy", "beam")  # the explorer's choices of vaekit.nn.tokens.Decoding


def prepare(ex: Explorer) -> None:
    """The tokenizer, whether the sentences are molecules, and for a model with a latent the posterior means of the
    first training sentences."""
    run = ex.run
    ex.tokenizer = tokenizer_for(run.spec.vocabulary)
    ex.molecules = run.spec.is_smiles
    ex.train = None
    if "latent_vector" in ex.caps:
        ex.train = load_split(run, "train", NEIGHBOUR_SENTENCES)
        ex.train_means = run.encode(ex.train.x).cpu()  # (N, D)


def molecule(ex: Explorer, text: str, size: tuple[int, int] = LARGE) -> dict:
    """A SMILES run's {"valid", "drawing"} of one string; {} for other text."""
    return molecule_fields(text, size) if ex.molecules else {}


def with_molecules(ex: Explorer, texts: list[str], key: str = "molecules") -> dict:
    """{key: each string's {"valid", "drawing"}, small} for a SMILES run; {} for other text."""
    return {key: [molecule_fields(t, SMALL) for t in texts]} if ex.molecules else {}


def example_text(ex: Explorer, x: torch.Tensor) -> dict:
    """One example x (1, T) as its text (and its molecule)."""
    text = decode_texts(ex.run.spec, x)[0]
    return {"text": text, **molecule(ex, text)}


def path_texts(ex: Explorer, x: torch.Tensor) -> dict:
    """The decoded points x (K, T) of a path as texts (and their molecules), in order."""
    texts = decode_texts(ex.run.spec, x)
    return {"texts": texts, **with_molecules(ex, texts)}


@torch.no_grad()
def decoded(ex: Explorer, px_z: Distribution, decoding: Decoding | None = None) -> dict:
    """The sentence of p(x|z) of one z (batch (1,)) (a SMILES run: and its molecule) and its log p(x|z) in nats."""
    decoding = decoding or Decoding()
    rows = decoding.rows(px_z)  # (1, T)
    text = decode_texts(ex.run.spec, rows)[0]
    return {
        "text": text,
        **molecule(ex, text),
        "log_prob": float(px_z.log_prob(rows)[0]),
        "tokens": int((rows != Vocabulary.pad_id).sum()),  # with <eos>
        "decoding": decoding.method,
        "beam_width": decoding.width if decoding.method == "beam" else None,
    }


def info(ex: Explorer) -> dict:
    vocabulary = ex.run.spec.vocabulary
    return {
        "max_length": ex.run.spec.event_shape[0],
        "vocab_size": len(vocabulary),
        "tokenizer": vocabulary.tokenizer,
        "lowercase": vocabulary.lowercase,
        "decodings": list(DECODINGS),
        "max_text_chars": MAX_TEXT_CHARS,
        "max_neighbours": MAX_NEIGHBOURS,
        "max_beam_width": MAX_BEAM_WIDTH,
        "num_train": 0 if ex.train is None else int(ex.train.x.shape[0]),
        "molecules": ex.molecules,
        **({"example_word": "molecule"} if ex.molecules else {}),
    }


def tokenize(ex: Explorer, text: str, what: str = "the sentence") -> tuple[torch.Tensor, list[dict]]:
    """A typed sentence as the model reads it: a row x (1, T) int64 (tokens, <eos>, <pad>) and each token as
    {"text": its text, "unk": whether it is outside the vocabulary, "as": what the model reads}. The text "<unk>"
    (what a decoding writes for the unknown token) is read as <unk> by the tokenizer, so that a decoded sentence
    encodes back to its own tokens. DataError when it has no token or more than the run's T - 1."""
    unk = SPECIALS[Vocabulary.unk_id]
    pieces = ex.tokenizer.split(text)
    ids = ex.tokenizer.lookup(pieces)
    x = text_rows(ex.run.spec, [ids], [what])  # (1, T)
    return x, [{"text": p, "unk": i == Vocabulary.unk_id, "as": unk if i == Vocabulary.unk_id else p}
               for p, i in zip(pieces, ids, strict=True)]  # fmt: skip


def own_text(ex: Explorer, text: str, neighbours: int, decoding: Decoding) -> dict:
    """A typed sentence: its tokens (unknown ones marked), the sentence as the model reads it (<unk> written), its
    posterior mean z, its decoding there, and the `neighbours` training sentences whose posterior means are
    nearest to z (Euclidean distance)."""
    run = ex.run
    x, tokens = tokenize(ex, text)
    z = run.encode(x)  # (1, D)
    distance = torch.cdist(z.cpu().double(), ex.train_means.double())[0]  # (N,)
    nearest = distance.topk(min(neighbours, distance.numel()), largest=False).indices  # (k,)
    texts = decode_texts(run.spec, ex.train.x[nearest])
    seen = decode_texts(run.spec, x)[0]
    return {
        "tokens": tokens,
        "seen": seen,
        **({"seen_molecule": molecule(ex, seen)} if ex.molecules else {}),
        "unknown": sum(t["unk"] for t in tokens),
        "z": z[0].tolist(),
        "reconstruction": decoded(ex, run.likelihood_at(z), decoding),
        "neighbours": [
            {"index": int(i), "text": t, "distance": round(float(d), 4), **molecule(ex, t, SMALL)}
            for i, t, d in zip(nearest.tolist(), texts, distance[nearest].tolist(), strict=True)
        ],
    }


def interpolate_texts(ex: Explorer, a: str, b: str, steps: int, decoding: Decoding) -> dict:
    """The homotopy between two typed sentences: the decodings at `steps` points of the straight line between
    their posterior means, the ends included (Bowman et al. 2016)."""
    run = ex.run
    x_a, _ = tokenize(ex, a, "the first sentence")
    x_b, _ = tokenize(ex, b, "the second sentence")
    path = latent_path(run.model, x_a[0].to(run.device), x_b[0].to(run.device), steps)  # (K, D)
    rows = decoding.rows(run.likelihood_at(path))  # (K, T)
    texts = decode_texts(run.spec, rows)
    ends = decode_texts(run.spec, torch.cat([x_a, x_b]))  # as the model reads them
    return {
        "texts": texts,
        **with_molecules(ex, texts),
        "ends": ends,
        **with_molecules(ex, ends, "end_molecules"),
        "steps": steps,
        "decoding": decoding.method,
    }
