"""The report of a text run: sampled sentences at a stated temperature beside the greedy decoding of the same z,
reconstructions, homotopies, the KL / I(x; z) / active-unit curves, He et al. 2019's evaluation; every sentence
escaped. A language model's report leaves out what needs z and says why."""

from __future__ import annotations

import html
import re

import pytest

from vaekit.report import ReportOptions, build_report, render
from vaekit.report.options import Context
from vaekit.report.sequences import collapse_curves, collapse_series, homotopy_pairs, sequence_sections
from vaekit.report.views import load_split
from vaekit.run import load_run
from vaekit.views.sequences import decode_texts

FAST = ReportOptions(quick_examples=20, quick_iw_samples=4, text_rows=6, homotopy_steps=5)
Z_SECTIONS = ("Reconstructions", "Homotopies", "KL, mutual information and active units", "KL per latent dimension")
IMAGE_AND_TABLE_SECTIONS = ("Samples from the prior", "Latent traversals", "Columns: real against sampled")


def built(run, options=FAST):
    report = build_report(run, options)
    return {s.title: s.body for s in report.sections}, render(report)


@pytest.fixture(scope="module")
def vae(runs):
    run = load_run(runs("text"))
    return (run, *built(run))


@pytest.fixture(scope="module")
def lm(runs):
    run = load_run(runs("text-lm"))
    return (run, *built(run))


def context_of(run, options: ReportOptions) -> Context:
    return Context(run, options, load_split(run, "test", 10), None, lambda msg: None)


def cells(body: str) -> list[list[str]]:
    """The rows of the first table of an HTML fragment (after its header), each cell's text unescaped."""
    tbody = re.search(r"<tbody>(.*?)</tbody>", body, re.S).group(1)
    return [
        [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", tbody, re.S)
    ]


def test_a_text_report_has_the_text_sections_and_no_other_kinds(vae):
    _, sections, page = vae
    for title in ("Run", "Training curves", "Sampled sentences", *Z_SECTIONS, "Evaluation"):
        assert title in sections
    assert not [t for t in IMAGE_AND_TABLE_SECTIONS if t in sections]
    assert "word tokenizer" in sections["Run"] and "tokens (&lt;eos&gt; included)" in sections["Run"]
    assert "<script" not in page and not re.search(r"https?://", page)  # self-contained, nothing to run


def test_every_sentence_is_escaped(vae):
    run, sections, page = vae
    text = re.sub(r"<(/?)(html|head|meta|title|style|body|h1|h2|h3|p|nav|a|section|div|table|thead|tbody|tr|th|td|"
                  r"img|pre|details|summary|strong|q|br)\b[^>]*>", "", page)  # fmt: skip
    assert not re.search(r"<(b|unk|eos)>", text)  # the sentences' <b> and <unk>, and <eos> in prose: all escaped
    assert "&lt; b &gt; dog &amp; a bird" in page  # the second template, as the word tokenizer writes it
    assert "&lt;unk&gt;" in page


def test_samples_show_their_temperature_and_temperature_zero_is_the_greedy_decoding(vae):
    run, sections, _ = vae
    body = sections["Sampled sentences"]
    assert "temperature 1" in body and len(cells(body)) == FAST.text_rows
    cold = ReportOptions(**{**FAST.__dict__, "temperature": 0.0})
    cold_body = dict(sequence_sections(context_of(run, cold)))["Sampled sentences"]
    assert "temperature 0" in cold_body
    rows = cells(cold_body)
    assert all(sampled == greedy for _, sampled, greedy in rows)  # temperature -> 0 is the greedy decoding
    distinct = len({greedy for _, _, greedy in rows})
    assert f"{distinct} distinct greedy sentences of {FAST.text_rows}" in cold_body


def test_reconstructions_are_the_test_sentences_and_their_greedy_decodings(vae):
    run, sections, _ = vae
    x = load_split(run, "test", FAST.text_rows).x
    rows = cells(sections["Reconstructions"])
    assert [r[1] for r in rows] == decode_texts(run.spec, x)
    assert [r[2] for r in rows] == decode_texts(run.spec, run.reconstruct(x))
    exact = sum(r[1] == r[2] for r in rows)
    assert f"{exact} of {len(rows)} come back exactly" in sections["Reconstructions"]


def test_a_homotopy_runs_from_one_test_sentence_to_another_in_the_stated_steps(vae):
    run, sections, _ = vae
    x = load_split(run, "test").x
    pairs = homotopy_pairs(x, FAST.homotopies)
    assert len(pairs) == FAST.homotopies and all(a != b for a, b in pairs)
    tables = re.findall(r"<table.*?</table>", sections["Homotopies"], re.S)
    assert len(tables) == len(pairs)
    for (a, b), body in zip(pairs, tables, strict=True):
        rows = cells(body)
        assert len(rows) == FAST.homotopy_steps + 2
        assert rows[0] == [f"test {a}", decode_texts(run.spec, x[a : a + 1])[0]]
        assert rows[-1] == [f"test {b}", decode_texts(run.spec, x[b : b + 1])[0]]
        assert [r[0] for r in rows[1:-1]] == [f"t = {k / (FAST.homotopy_steps - 1):.2f}" for k in range(5)]
        z = run.encode(x[[a, b]])  # the path's ends decode as the posterior means do
        ends = decode_texts(run.spec, run.likelihood_at(z).greedy())
        assert [rows[1][1], rows[-2][1]] == ends


def test_the_collapse_curves_say_when_mi_and_au_were_not_logged(vae):
    run, sections, _ = vae
    kl_only = collapse_curves([{"epoch": 1, "test_kl": 1.0}, {"epoch": 2, "test_kl": 0.5}])
    assert "holds no I(x; z) or active units" in kl_only
    assert "KL, mutual information and active units per epoch" in kl_only  # the KL is drawn
    no_au = collapse_curves([{"epoch": 1, "test_kl": 1.0, "test_mi": 0.3}])
    assert "holds no active units (keys au," in no_au
    assert "holds no" not in collapse_curves([{"epoch": 1, "test_kl": 1.0, "test_mi": 0.3, "test_active_units": 2}])
    logged = {"test_mi", "test_active_units"} <= run.metrics()[-1].keys()  # as the run's vaekit logs them
    assert ("holds no" in sections["KL, mutual information and active units"]) is not logged


def test_the_collapse_curves_take_mi_and_au_where_logged():
    metrics = [
        {"epoch": 1, "train_kl": 2.0, "test_kl": 1.5, "test_mi": 0.4, "test_active_units": 3},
        {"epoch": 2, "train_kl": 1.0, "test_kl": 0.5, "test_mi": float("nan"), "test_active_units": 2, "au": True},
        {"epoch": 3, "mi": 0.1},
    ]
    series = collapse_series(metrics)
    assert series["KL"] == {"train": [(1, 2.0), (2, 1.0)], "test": [(1, 1.5), (2, 0.5)]}
    assert series["I(x; z)"] == {"test": [(1, 0.4)], "value": [(3, 0.1)]}  # NaN skipped
    assert series["active units"] == {"test": [(1, 3.0), (2, 2.0)]}  # a boolean is no count
    assert collapse_series([{"epoch": 1, "test_kl": 1.0}]).keys() == {"KL"}


def test_the_evaluation_is_he_et_al_s(vae):
    run, sections, _ = vae
    body = sections["Evaluation"]
    assert "Nats per sequence" in body and "Text: He et al. 2019's protocol" in body
    nll = float(re.search(r"<th>NLL \(nats per sentence\)</th><td>([0-9.]+)", body).group(1))
    log_likelihood = float(re.search(r"<th>log_likelihood</th><td>(-?[0-9.]+)</td>", body).group(1))
    assert nll == pytest.approx(-log_likelihood, abs=1e-4)
    assert f"importance-weighted bound, K = {FAST.quick_iw_samples}" in body
    assert re.search(r"<th>active units</th><td>[0-3]</td>", body)


def test_a_language_model_report_leaves_out_what_needs_z_and_says_why(lm):
    run, sections, page = lm
    assert "Sampled sentences" in sections and "Without a latent" in sections and "Evaluation" in sections
    assert not [t for t in Z_SECTIONS if t in sections]
    assert "left out" in sections["Without a latent"] and "model.type=lm" in sections["Without a latent"]
    assert "Its greedy decoding, the same for every draw" in sections["Sampled sentences"]
    assert len(cells(sections["Sampled sentences"])) == FAST.text_rows
    body = sections["Evaluation"]
    assert "exact (no latent: log p(x) itself)" in body and "not applicable (no latent)" in body
    assert "Warning" not in page  # a model without z has nothing to collapse


def test_sampled_sentences_are_seeded(vae):
    run = vae[0]
    bodies = [
        dict(sequence_sections(context_of(run, ReportOptions(**{**FAST.__dict__, "seed": seed}))))["Sampled sentences"]
        for seed in (0, 0, 1)
    ]
    assert bodies[0] == bodies[1] and bodies[0] != bodies[2]
