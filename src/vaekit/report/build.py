"""`vaekit report`: one self-contained HTML page about a run (images inline as data: URIs, nothing fetched).

The sections a run gets follow from its model's capabilities: traversals and the KL per dimension need
`latent_vector` and `kl_per_dim`; the KL per layer `layers`; the codebook usage `codes`. Evaluation reports found
in the run directory (`vaekit evaluate ... --out RUN/x.json`) are shown as they are; without one, a quick
evaluation on a few test examples is made here, and its K and number of examples are stated.
"""

from __future__ import annotations

import html
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vaekit.evaluate.by_model import evaluation_for
from vaekit.evaluate.codebook import codebook_usage
from vaekit.evaluate.report import summary_rows
from vaekit.plotting import kl_bar_chart
from vaekit.report.views import COLLAPSED_KL, INACTIVE_VARIANCE, figure_uri, images_uri, load_split, rank_latents
from vaekit.run import CONFIG, Run
from vaekit.sampling import traverse
from vaekit.workflow.disentanglement import METRICS as DISENTANGLEMENT_METRICS
from vaekit.workflow.evaluation import evaluate_run

MAX_TRAVERSED = 32  # traversal rows at most (the highest-KL dimensions)
RECONSTRUCTIONS_PER_ROW = 8


@dataclass
class ReportOptions:
    seed: int = 0  # of every draw in the report (samples, quick evaluation)
    num_samples: int = 64
    num_reconstructions: int = 16
    traversal_steps: int = 10
    traversal_range: float = 3.0
    kl_examples: int = 1000  # test images the KL per dimension averages over
    quick_examples: int = 500  # the quick evaluation, when the run directory has no evaluate report
    quick_iw_samples: int = 100


@dataclass
class Section:
    title: str
    body: str  # HTML
    anchor: str = ""


@dataclass
class Report:
    run: Run
    sections: list[Section] = field(default_factory=list)

    def add(self, title: str, body: str) -> None:
        anchor = "".join(c if c.isalnum() else "-" for c in title.lower())
        self.sections.append(Section(title, body, anchor))


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def img(uri: str, alt: str, cls: str = "") -> str:
    return f'<img src="{uri}" alt="{esc(alt)}" class="{cls}">'


def table(rows: list[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(_fmt(v))}</td></tr>" for k, v in rows)
    return f'<table class="kv">{cells}</table>'


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) and abs(value) < 1e6 else f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value) if len(value) <= 64 else f"[{len(value)} values]"
    return str(value)


def found_reports(path: Path) -> tuple[dict | None, dict | None]:
    """The evaluate report and the disentanglement report among the run directory's .json files (newest first)."""
    evaluation = disentanglement = None
    for file in sorted(path.glob("*.json"), key=lambda f: -f.stat().st_mtime):
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "num_examples" not in data:
            continue
        data = {"file": file.name, **data}
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


def bar_chart(values: list[float], labels: list[str], title: str, ylabel: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(4.0, 0.25 * len(values) + 1.5), 3.0), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(values)), values, color="tab:blue")
    if len(labels) <= 64:
        ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return fig


def command_of(run: Run) -> str:
    return f"vaekit train {run.path / CONFIG} --out NEW_RUN_DIR"


@torch.no_grad()
def build_report(run: Run, options: ReportOptions | None = None, log=lambda msg: None) -> Report:
    """Every section of the report of `run`, chosen by its model's capabilities."""
    o = options or ReportOptions()
    caps = run.capabilities
    report = Report(run)

    report.add(
        "Run",
        table(
            [
                ("run directory", str(run.path)),
                ("model.type", run.config.model.type),
                ("capabilities", ", ".join(sorted(caps)) or "none"),
                ("data", f"{run.config.data.source} {run.data_shape} (C, H, W)"),
                ("epochs trained", len(run.metrics())),
            ]
        )
        + f"<h3>Reproduce</h3><pre>{esc(command_of(run))}</pre>"
        + f"<details><summary>resolved config ({CONFIG})</summary><pre>{esc(run.config.to_yaml())}</pre></details>",
    )

    fig = training_curves(run.metrics())
    if fig is not None:
        report.add("Training curves", img(figure_uri(fig), "training curves per epoch"))

    log("samples")
    note = run.prior_note()
    generator = torch.Generator(device=run.device).manual_seed(o.seed)
    samples = run.sample(o.num_samples, generator=generator)  # (N, C, H, W)
    cols = run.config.model.num_classes if "labels" in caps else None
    body = img(images_uri(samples, nrow=cols), "samples from the prior", "pix")
    if "labels" in caps:
        body = "<p>Column k: class k.</p>" + body
    if note:
        body = f'<p class="note">{esc(note)}</p>' + body
    report.add("Samples from the prior", body)

    log("test data")
    data = load_split(run, "test", max(o.kl_examples, o.num_reconstructions))
    n = min(o.num_reconstructions, data.x.shape[0])
    head = {k: v[:n] for k, v in data.cond.items()}
    recon = run.reconstruct(data.x[:n], y=head.get("y"))  # (n, C, H, W)
    per_row = min(RECONSTRUCTIONS_PER_ROW, n)
    rows = "the top row" if n <= per_row else "rows 1, 3, ..."
    report.add(
        "Reconstructions",
        f"<p>{n} test images ({rows}), each above its reconstruction (the mean of p(x|z) at the posterior mean).</p>"
        + img(
            images_uri(_interleave(data.x[:n], recon, per_row), nrow=per_row), "test images and reconstructions", "pix"
        ),
    )

    if "latent_vector" in caps:
        log("traversals")
        means = run.encode(data.x, y=data.cond.get("y"))  # (N, D)
        ranking = rank_latents(run, data, means)
        report.add("Latent traversals", _traversals(run, data, ranking, o))
        if ranking.kind == "kl":
            report.add("KL per latent dimension", img(figure_uri(kl_bar_chart(ranking.score)), "KL per dimension"))

    if "codes" in caps:
        log("codebook usage")
        codes = run.encode_codes(data.x)  # (N, h, w)
        counts = torch.bincount(codes.flatten().cpu(), minlength=run.model.num_codes)  # (K,)
        fig = bar_chart(counts.tolist(), [str(k) for k in range(len(counts))], "codebook usage", "positions")
        usage = codebook_usage(counts)
        report.add(
            "Codebook usage",
            f"<p>Positions assigned to each code over the code maps of {codes.shape[0]} test images "
            f"({codes.shape[1]}x{codes.shape[2]} codes each): {usage['dead_codes']} of {usage['codebook_size']} codes "
            f"unused, perplexity {usage['codebook_perplexity']:.1f}.</p>"
            + img(figure_uri(fig), "codebook usage histogram"),
        )

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
    report.add("Evaluation", f"<p>{esc(origin)} Nats per example unless named otherwise.</p>" + table(rows))

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


def _interleave(a: torch.Tensor, b: torch.Tensor, per_row: int) -> torch.Tensor:
    """Rows of `per_row` images of a, each followed by the row of b at the same positions: (2 R per_row, C, H, W)
    for R rows. A last row that is short is filled with blank (zero) images, so that no row mixes a and b."""
    parts = []
    for start in range(0, a.shape[0], per_row):
        for x in (a[start : start + per_row], b[start : start + per_row]):
            blank = x.new_zeros((per_row - x.shape[0], *x.shape[1:]))
            parts += [x, blank]
    return torch.cat(parts)


def _traversals(run: Run, data, ranking, o: ReportOptions) -> str:
    rows = ranking.order[:MAX_TRAVERSED]
    what = "KL" if ranking.kind == "kl" else "Var"
    if ranking.kind == "kl":
        order = f"by decreasing KL (nats, mean over {data.x.shape[0]} test images); collapsed: KL under {COLLAPSED_KL}"
    else:
        order = (
            f"by decreasing variance of the posterior means over {data.x.shape[0]} test images (the model has no "
            f"KL per dimension); collapsed: variance under {INACTIVE_VARIANCE} (inactive, Burda et al. 2016)"
        )
    one = {k: v[:1] for k, v in data.cond.items()}
    images = traverse(run.model, data.x[0], rows, o.traversal_steps, o.traversal_range, one)  # (R, K, C, H, W)
    lines = []
    for r, d in enumerate(rows):
        mark = ' <span class="collapsed">collapsed</span>' if ranking.collapsed[d] else ""
        cls = ' class="dim collapsed-row"' if ranking.collapsed[d] else ' class="dim"'
        label = f"z{d}: {what} {ranking.score[d]:.3f}{mark}"
        strip = img(images_uri(images[r], nrow=o.traversal_steps), f"traversal of z{d}", "pix")
        lines.append(f"<tr{cls}><th>{label}</th><td>{strip}</td></tr>")
    more = len(ranking.order) - len(rows)
    tail = f"<p>{more} lower-KL dimensions not shown.</p>" if more > 0 else ""
    return (
        f"<p>Test image 0; row: one dimension swept from -{o.traversal_range:g} to {o.traversal_range:g}, the others "
        f"at the posterior mean; dimensions {order}.</p>"
        f'<table class="traversals">{"".join(lines)}</table>{tail}'
    )


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
"""


def render(report: Report) -> str:
    """The report as one HTML document: no script, no stylesheet or image from anywhere but this file."""
    run = report.run
    nav = "".join(f'<a href="#{s.anchor}">{esc(s.title)}</a>' for s in report.sections)
    body = "".join(f'<section id="{s.anchor}"><h2>{esc(s.title)}</h2>{s.body}</section>' for s in report.sections)
    title = f"vaekit report: {run.path.name}"
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{esc(run.config.model.type)} run, report made {made}.</p>"
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )


def write_report(run: Run, out: str | Path, options: ReportOptions | None = None, log=lambda msg: None) -> Path:
    """Build the report of `run` and write it to `out` atomically; returns the path."""
    from vaekit.atomic import atomic_write_text

    out = Path(out)
    atomic_write_text(out, render(build_report(run, options, log)))
    return out
