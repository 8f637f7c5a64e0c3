"""`vaekit report`: one self-contained HTML page about a run (images inline as data: URIs, nothing fetched).

The sections that show examples are the kind's (`KINDS`, keyed by `spec.kind`: images in report/images.py, tables in
report/tables.py, text in report/sequences.py); within a kind they follow from the model's capabilities: traversals
and the KL per dimension need `latent_vector` and `kl_per_dim`; the KL per layer `layers`; the codebook usage
`codes`. Evaluation reports found in the run directory (`vaekit evaluate ... --out RUN/x.json`) are shown as they
are; without one, a quick evaluation on a few test examples is made here, and its K and number of examples are
stated. When every latent dimension collapsed, the page says so at the top
(vaekit.evaluate.diagnostics.collapse_warning).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.diagnostics import collapse_warning
from vaekit.evaluate.report import summary_rows
from vaekit.report.html import esc, img, table
from vaekit.report.images import image_sections
from vaekit.report.options import Context, ReportOptions, Sections
from vaekit.report.sequences import sequence_evaluation, sequence_sections, sequence_shape
from vaekit.report.tables import per_column_reconstruction, table_sections, table_shape
from vaekit.report.views import bar_chart, figure_uri, json_reports, load_split, rank_latents
from vaekit.run import CONFIG, Run
from vaekit.workflow.disentanglement import METRICS as DISENTANGLEMENT_METRICS
from vaekit.workflow.evaluation import evaluate_run


@dataclass(frozen=True)
class ReportKind:
    """What the report of a kind of data shows."""

    sections: Callable[[Context], Sections]  # the sections that show its examples, after the training curves
    shape: Callable[[Run], str]  # the data's shape in words, for the Run section
    evaluation_extra: Callable[[Run, dict], str]  # HTML under the evaluation table


KINDS: dict[str, ReportKind] = {
    "image": ReportKind(image_sections, lambda run: f"{run.data_shape} (C, H, W)", lambda run, evaluation: ""),
    "table": ReportKind(table_sections, table_shape, per_column_reconstruction),
    "sequence": ReportKind(sequence_sections, sequence_shape, sequence_evaluation),
}


@dataclass
class Section:
    title: str
    body: str  # HTML
    anchor: str = ""


@dataclass
class Report:
    run: Run
    sections: list[Section] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # shown at the top of the page

    def add(self, title: str, body: str) -> None:
        anchor = "".join(c if c.isalnum() else "-" for c in title.lower())
        self.sections.append(Section(title, body, anchor))


def found_reports(path: Path) -> tuple[dict | None, dict | None]:
    """The evaluate report and the disentanglement report among the run directory's .json files (newest first)."""
    evaluation = disentanglement = None
    for data in json_reports(path):
        if disentanglement is None and all(k in data for k in DISENTANGLEMENT_METRICS):
            disentanglement = data
        elif evaluation is None and "elbo" in data and "seconds" in data:
            evaluation = data
    return evaluation, disentanglement


def training_curves(metrics: list[dict]):
    """One panel per quantity of metrics.jsonl (train and test as two lines): a matplotlib Figure, or None."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for i, row in enumerate(metrics):
        epoch = int(row.get("epoch", i + 1))
        for key, value in row.items():
            if key in ("epoch", "step") or not isinstance(value, int | float) or isinstance(value, bool):
                continue
            split, _, name = key.partition("_") if key.startswith(("train_", "test_")) else ("", "", key)
            series.setdefault(name, {}).setdefault(split or "value", []).append((epoch, float(value)))
    if not series:
        return None
    first = ["elbo", "reconstruction", "kl", "lr", "seconds"]
    names = sorted(series, key=lambda n: (first.index(n) if n in first else len(first), n))
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = Figure(figsize=(4.0 * cols, 2.6 * rows), dpi=90, layout="constrained")
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        for split, points in sorted(series[name].items()):
            epochs, values = zip(*points, strict=True)
            ax.plot(epochs, values, marker="." if len(points) < 30 else None, label=split)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        if len(series[name]) > 1:
            ax.legend(fontsize=7)
    return fig


def command_of(run: Run) -> str:
    return f"vaekit train {run.path / CONFIG} --out NEW_RUN_DIR"


@torch.no_grad()
def build_report(run: Run, options: ReportOptions | None = None, log=lambda msg: None) -> Report:
    """Every section of the report of `run`: the kind's (KINDS), each chosen by its model's capabilities."""
    o = options or ReportOptions()
    caps = run.capabilities
    kind = KINDS[run.spec.kind]
    report = Report(run)

    report.add(
        "Run",
        table(
            [
                ("run directory", str(run.path)),
                ("model.type", run.config.model.type),
                ("capabilities", ", ".join(sorted(caps)) or "none"),
                ("data", f"{run.config.data.source} {kind.shape(run)}"),
                ("epochs trained", len(run.metrics())),
            ]
        )
        + f"<h3>Reproduce</h3><pre>{esc(command_of(run))}</pre>"
        + f"<details><summary>resolved config ({CONFIG})</summary><pre>{esc(run.config.to_yaml())}</pre></details>",
    )

    fig = training_curves(run.metrics())
    if fig is not None:
        report.add("Training curves", img(figure_uri(fig), "training curves per epoch"))

    log("test data")
    data = load_split(run, "test", max(o.kl_examples, o.num_reconstructions))
    ranking = None
    if "latent_vector" in caps:
        means = run.encode(data.x, y=data.cond.get("y"))  # (N, D)
        ranking = rank_latents(run, data, means)
        if ranking.kind == "kl":
            warning = collapse_warning(torch.tensor(ranking.score, dtype=torch.float64), run.spec.kind)
            report.warnings += [warning] if warning else []
    for title, body in kind.sections(Context(run, o, data, ranking, log)):
        report.add(title, body)

    evaluation, disentanglement = found_reports(run.path)
    if evaluation is None:
        evaluation = evaluate_run(run, limit=o.quick_examples, iw_samples=o.quick_iw_samples, seed=o.seed)
        log(f"quick evaluation (K={evaluation.get('iw_samples', 1)}, {evaluation['num_examples']} test examples)")
        origin = (
            f"A quick evaluation made for this report: {evaluation['num_examples']} test examples, "
            f"K = {evaluation.get('iw_samples', 1)} importance samples (no evaluate report in the run directory; "
            f"`vaekit evaluate {run.path} --out {run.path}/evaluate.json` writes a full one)."
        )
    else:
        origin = f"From {evaluation['file']} in the run directory."
    rows = summary_rows(evaluation, evaluation_for(run.config.model.type).summary)  # as `vaekit evaluate` prints
    rows += [(k, evaluation[k]) for k in ("num_examples", "iw_samples", "split", "data", "seconds") if k in evaluation]
    unit = f"Nats per {run.spec.facts.example_word} unless named otherwise."
    report.add("Evaluation", f"<p>{esc(origin)} {unit}</p>" + table(rows) + kind.evaluation_extra(run, evaluation))

    if "layers" in caps and "kl_per_layer" in evaluation:
        kl = list(evaluation["kl_per_layer"])
        dims = evaluation.get("layer_dims", [None] * len(kl))
        labels = [f"z{i + 1} ({d})" for i, d in enumerate(dims)]
        fig = bar_chart(kl, labels, f"KL per layer, bottom first: {sum(kl):.2f} nats in all", "KL (nats)")
        report.add("KL per layer", img(figure_uri(fig), "KL per stochastic layer"))

    if disentanglement is not None:
        rows = [(k, disentanglement.get(k)) for k in (*DISENTANGLEMENT_METRICS, "reconstruction", "kl", "elbo")]
        report.add(
            "Disentanglement",
            f"<p>From {esc(disentanglement['file'])} in the run directory.</p>"
            + table([(k, v) for k, v in rows if v is not None]),
        )
    return report


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}
table.kv th{text-align:left;padding-right:1.5em;font-weight:500}table.kv td{font-family:monospace}
img.pix{image-rendering:pixelated;min-width:280px}img{max-width:100%}
table.traversals img.pix{min-width:0;height:44px}
table.traversals th{text-align:right;padding-right:1em;font-weight:500;white-space:nowrap}
.collapsed{color:#a00;font-size:.85em}.collapsed-row img{opacity:.45}.note{color:#8a5a00}
nav a{margin-right:1em}
.warning{background:#fff4e5;border:1px solid #e0a040;border-left:6px solid #d98200;padding:.6em .9em;margin:1em 0}
.marginals{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:.4em}
.marginals figure{margin:0}.marginals img{width:100%}
.scroll{overflow-x:auto}table.rows{border-collapse:collapse;font-size:.85em;font-variant-numeric:tabular-nums}
table.rows th,table.rows td{border-bottom:1px solid #e4e4e4;padding:.15em .6em;text-align:right;white-space:nowrap}
table.rows th{background:#f3f3f3;font-weight:500}table.paired tbody tr:nth-child(4n+1),
table.paired tbody tr:nth-child(4n+2){background:#f7f9fc}
table.sentences{border-collapse:collapse;font-size:.9em;margin:.4em 0 1em;width:100%}
table.sentences th,table.sentences td{border-bottom:1px solid #e4e4e4;padding:.2em .7em;text-align:left;
vertical-align:top}
table.sentences th{background:#f3f3f3;font-weight:500}table.sentences td:first-child{color:#777;white-space:nowrap}
"""


def render(report: Report) -> str:
    """The report as one HTML document: no script, no stylesheet or image from anywhere but this file."""
    run = report.run
    nav = "".join(f'<a href="#{s.anchor}">{esc(s.title)}</a>' for s in report.sections)
    body = "".join(f'<section id="{s.anchor}"><h2>{esc(s.title)}</h2>{s.body}</section>' for s in report.sections)
    title = f"vaekit report: {run.path.name}"
    warnings = "".join(f'<p class="warning"><strong>Warning:</strong> {esc(w)}</p>' for w in report.warnings)
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{esc(run.config.model.type)} run, report made {made}.</p>{warnings}"
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )


def write_report(run: Run, out: str | Path, options: ReportOptions | None = None, log=lambda msg: None) -> Path:
    """Build the report of `run` and write it to `out` atomically; returns the path."""
    from vaekit.atomic import atomic_write_text

    out = Path(out)
    atomic_write_text(out, render(build_report(run, options, log)))
    return out
