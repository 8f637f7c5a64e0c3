"""The sections of a sequence (text) run: sampled sentences, reconstructions, homotopies, the KL / I(x; z) / active
units curves of training and the KL per dimension; under the evaluation, He et al. 2019's numbers in their units.

Sentences are decoded with the run's tokenizer (vaekit.views.sequences.decode_texts) and escaped like all text of
the report. Samples draw z ~ p(z), then x ~ p(x|z) token by token at a temperature (vaekit.nn.tokens); the greedy
decoding of the same z is shown beside them, so that a decoder that ignores z shows as one repeated sentence.
Reconstructions and homotopies (Bowman et al. 2016, "Generating Sentences from a Continuous Space", section 5.1)
decode greedily at posterior means. A language model (model.type=lm) has no z: those sections are left out, and a
sentence says why.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from vaekit.report.html import esc, fmt, img, kl_section, rows_table, table
from vaekit.report.molecules import molecules_section
from vaekit.report.options import Context, Sections
from vaekit.report.views import figure_uri
from vaekit.run import Run
from vaekit.sampling import interpolate
from vaekit.views.sequences import decode_texts

# a curve's name -> (its panel's title, the metrics.jsonl keys that hold it, the first found taken; train_/test_
# prefixes are tried for each)
CURVES = {
    "KL": ("KL (nats)", ("kl",)),
    "I(x; z)": ("I(x; z) (nats)", ("mi",)),
    "active units": ("active units", ("au", "active_units")),
}
HOMOTOPY_LENGTHS = (4, 12)  # tokens (<eos> included) of the test sentences a homotopy joins: short ones, as Bowman's


def sequence_sections(ctx: Context) -> Sections:
    run, o = ctx.run, ctx.options
    sections: Sections = [("Sampled sentences", _samples(run, o.text_rows, o.temperature, o.seed))]
    if run.spec.is_smiles:
        ctx.log("molecules")
        sections.append(("Molecules", molecules_section(ctx)))
    if "latent_vector" not in run.capabilities:
        sections.append(("Without a latent", _without_latent(run)))
        return sections
    ctx.log("reconstructions")
    sections.append(("Reconstructions", _reconstructions(run, ctx.data.x[: o.text_rows])))
    ctx.log("homotopies")
    sections.append(("Homotopies", _homotopies(run, ctx.data.x, o.homotopies, o.homotopy_steps)))
    sections.append(("KL, mutual information and active units", collapse_curves(run.metrics())))
    if ctx.ranking is not None:
        sections += kl_section(ctx.ranking)
    return sections


def _sentence_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    return rows_table(pd.DataFrame(rows, columns=list(header)), "sentences")


@torch.no_grad()
def _samples(run: Run, num: int, temperature: float, seed: int) -> str:
    generator = torch.Generator(device=run.device).manual_seed(seed)
    z = run.model.prior().sample((num,), generator=generator)  # (N, D); D = 0 for a language model
    px_z = run.model.likelihood(z)
    sampled = decode_texts(run.spec, px_z.sample(generator=generator, temperature=temperature))  # N texts
    if "latent_vector" not in run.capabilities:
        greedy = decode_texts(run.spec, px_z.greedy()[:1])[0]
        return (
            f"<p>{num} sentences drawn from the language model token by token at temperature {temperature:g} "
            "(each next token from softmax(log p / temperature); 1 draws from the model itself). Its greedy "
            f"decoding, the same for every draw, is: <q>{esc(greedy)}</q></p>"
            + _sentence_table(("#", f"sampled (temperature {temperature:g})"), list(enumerate(sampled)))
        )
    greedy = decode_texts(run.spec, px_z.greedy())
    distinct = len(set(greedy))
    return (
        f"<p>{num} latent vectors z ~ p(z); for each, a sentence drawn from p(x|z) token by token at temperature "
        f"{temperature:g} (each next token from softmax(log p / temperature); 1 draws from the model itself), and the "
        f"greedy decoding of the same z. {distinct} distinct greedy sentences of {num}: a decoder that ignores z "
        "gives one sentence for every z.</p>"
        + _sentence_table(
            ("#", f"sampled (temperature {temperature:g})", "greedy"),
            [(i, s, g) for i, (s, g) in enumerate(zip(sampled, greedy, strict=True))],
        )
    )


def _reconstructions(run: Run, x: torch.Tensor) -> str:
    recon = run.reconstruct(x)  # (n, T): the greedy decoding at the posterior mean
    inputs, outputs = decode_texts(run.spec, x), decode_texts(run.spec, recon)
    exact = sum(a == b for a, b in zip(inputs, outputs, strict=True))
    return (
        f"<p>The first {len(inputs)} test sentences (as the model reads them: words outside the vocabulary are "
        "&lt;unk&gt;) and their greedy decodings at the posterior mean E_q[z|x]; "
        f"{exact} of {len(inputs)} come back exactly.</p>"
        + _sentence_table(
            ("#", "test sentence", "reconstruction"),
            [(i, a, b) for i, (a, b) in enumerate(zip(inputs, outputs, strict=True))],
        )  # fmt: skip
    )


def homotopy_pairs(x: torch.Tensor, num: int) -> list[tuple[int, int]]:
    """Up to `num` pairs of test rows to join: consecutive rows among the first 200 whose length is in
    HOMOTOPY_LENGTHS (any rows when too few are)."""
    lengths = (x[:200] != 0).sum(-1)  # (N,): tokens and <eos>
    low, high = HOMOTOPY_LENGTHS
    rows = [i for i, n in enumerate(lengths.tolist()) if low <= n <= high]
    if len(rows) < 2 * num:
        rows = list(range(min(200, x.shape[0])))
    return [(rows[2 * k], rows[2 * k + 1]) for k in range(min(num, len(rows) // 2))]


def _homotopies(run: Run, x: torch.Tensor, num: int, steps: int) -> str:
    pairs = homotopy_pairs(x, num)
    if not pairs:
        return "<p>The test split holds fewer than two sentences: no homotopy to show.</p>"
    parts = []
    for a, b in pairs:
        path = interpolate(run.model, x[a], x[b], steps)  # (K, T): greedy decodings along the line
        texts = decode_texts(run.spec, path)
        ends = decode_texts(run.spec, x[[a, b]])
        rows = [("test " + str(a), ends[0])] + [(f"t = {k / (steps - 1):.2f}", t) for k, t in enumerate(texts)]
        rows.append(("test " + str(b), ends[1]))
        parts.append(_sentence_table(("", "sentence"), rows))
    return (
        f"<p>Homotopies (Bowman et al. 2016): the greedy decodings of {steps} points on the straight line "
        "z(t) = (1 - t) z_a + t z_b between the posterior means of two test sentences (first and last rows). A "
        "latent space that carries the sentences changes them gradually, each step a well-formed sentence; a "
        "collapsed one decodes every point to the same sentence.</p>" + "".join(parts)
    )


def collapse_series(metrics: list[dict]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """name -> split ("train", "test" or "value") -> [(epoch, value)] for each curve of CURVES in metrics.jsonl."""
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for title, (_, names) in CURVES.items():
        for name in names:
            found: dict[str, list[tuple[int, float]]] = {}
            for i, row in enumerate(metrics):
                for split, key in (("train", f"train_{name}"), ("test", f"test_{name}"), ("value", name)):
                    value = row.get(key)
                    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                        found.setdefault(split, []).append((int(row.get("epoch", i + 1)), float(value)))
            if found:
                out[title] = found
                break
    return out


def collapse_curves(metrics: list[dict]) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series = collapse_series(metrics)
    missing = [t for t in CURVES if t not in series]
    note = ""
    if missing:
        keys = ", ".join(CURVES[t][1][0] for t in missing)
        note = (
            f'<p class="note">metrics.jsonl holds no {" or ".join(missing)} (keys {keys}, with or without a '
            "train_/test_ prefix): the run was trained without them logged, so they are absent here. `vaekit "
            "evaluate` measures them on the test split (Evaluation, below).</p>"
        )
    if not series:
        return note + "<p>No epoch has been recorded.</p>"
    fig = Figure(figsize=(4.0 * len(series), 2.8), dpi=90, layout="constrained")
    for i, (name, splits) in enumerate(series.items()):
        title = CURVES[name][0]
        ax = fig.add_subplot(1, len(series), i + 1)
        for split, points in sorted(splits.items()):
            epochs, values = zip(*points, strict=True)
            ax.plot(epochs, values, marker="." if len(points) < 30 else None, label=split)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        if len(splits) > 1:
            ax.legend(fontsize=7)
    return (
        "<p>Per epoch, from metrics.jsonl: the KL term (nats per sentence), He et al. 2019's estimate of the mutual "
        "information I(x; z) and the active units (Burda et al. 2016). A KL and an I(x; z) that fall to 0 while the "
        "reconstruction improves are posterior collapse: the decoder models the sentences without z.</p>"
        + note
        + img(figure_uri(fig), "KL, mutual information and active units per epoch")
    )


def _without_latent(run: Run) -> str:
    return (
        f"<p>This run is a model.type={esc(run.config.model.type)}: a language model without a latent z, the "
        "baseline a sentence VAE is read against. Reconstructions, homotopies, the KL, I(x; z) and active-unit "
        "curves and the KL per dimension all need z, so they are left out. Its NLL below is exact (every importance "
        "weight equals p(x)).</p>"
    )


def sequence_evaluation(run: Run, evaluation: dict) -> str:
    """He et al. 2019's numbers of a text evaluation: NLL per sentence, perplexity, KL, I(x; z), active units."""
    if "nll" not in evaluation:
        return ""
    exact = bool(evaluation.get("nll_exact"))
    k = evaluation.get("iw_samples")
    how = "exact (no latent: log p(x) itself)" if exact else f"importance-weighted bound, K = {k}"
    lm = "latent_vector" not in run.capabilities
    absent = "not applicable (no latent)" if lm else "not in this evaluation"
    rows = [
        ("NLL (nats per sentence)", f"{fmt(float(evaluation['nll']))}  ({how})"),
        ("perplexity (per token, <eos> counted)", evaluation.get("perplexity", "?")),
        ("tokens (<eos> counted)", evaluation.get("tokens", "?")),
        ("KL (nats per sentence)", evaluation.get("kl", "?")),
        ("I(x; z) (nats)", evaluation["mi"] if "mi" in evaluation else absent),
        ("active units", evaluation["active_units"] if "active_units" in evaluation and not lm else absent),
    ]
    return (
        "<h3>Text: He et al. 2019's protocol</h3><p>The negative log-likelihood in nats per sentence, the perplexity "
        "exp(total NLL / total tokens) with every sentence's &lt;eos&gt; counted, the KL, the mutual information "
        "I(x; z) and the active units; read a sentence VAE's NLL against a language model's (model.type=lm) on the "
        "same data.</p>" + table(rows)
    )


def sequence_shape(run: Run) -> str:
    spec = run.spec
    vocabulary = spec.vocabulary
    case = ", lowercased" if vocabulary.lowercase else ""
    return (
        f"sequences of up to {spec.event_shape[0]} tokens (<eos> included), {len(vocabulary):,}-token vocabulary, "
        f"{vocabulary.tokenizer} tokenizer{case}"
    )
