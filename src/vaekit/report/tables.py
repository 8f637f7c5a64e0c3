"""The sections of a table run: each column real against sampled, the correlations of the numeric columns, sampled
rows, the measures of synthetic rows, test rows with their reconstructions, the KL per dimension; and the
reconstruction term per column.

Real rows are the first test rows of the run's split (read through the run's spec); sampled rows are drawn from the
model, z ~ p(z) and x ~ p(x|z) (`Run.sample`); both are decoded to the table's own units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from vaekit.data.tables import decode_rows
from vaekit.report.html import esc, img, kl_section, rows_table, table
from vaekit.report.options import Context, Sections
from vaekit.report.views import figure_uri, json_reports
from vaekit.run import Run
from vaekit.views.table_figures import NUMERIC, column_values, correlation_figure, correlations, marginal_figure
from vaekit.workflow.synthetic import synthetic_report


def table_sections(ctx: Context) -> Sections:
    run, o = ctx.run, ctx.options
    real = ctx.data.x[: o.kl_examples]  # (N, D) in the model's numbers
    ctx.log(f"{o.table_samples} sampled rows")
    generator = torch.Generator(device=run.device).manual_seed(o.seed)
    sampled = run.sample(o.table_samples, generator=generator)  # (S, D)
    sections = [
        ("Columns: real against sampled", _marginals(run, real, sampled)),
        ("Correlations", _correlations(run, real, sampled)),
        ("Sampled rows", _sampled_rows(run, sampled[: o.table_rows_shown])),
        ("Synthetic data", synthetic_section(run, ctx)),
        ("Reconstructions", _reconstructions(run, ctx)),
    ]
    if ctx.ranking is not None:
        sections += kl_section(ctx.ranking)
    return sections


def _marginals(run: Run, real: torch.Tensor, sampled: torch.Tensor) -> str:
    spec = run.spec
    real_values, sampled_values = column_values(spec, real), column_values(spec, sampled)
    figures = []
    for column, r, s in zip(spec.columns, real_values, sampled_values, strict=True):
        fig = marginal_figure(column, r, s)
        figures.append(f'<figure class="marginal">{img(figure_uri(fig), f"marginal of column {column.name}")}</figure>')
    return (
        f"<p>{real.shape[0]} test rows (the run's test split, in the table's units) against {sampled.shape[0]} rows "
        "drawn from the model (z ~ p(z), then x ~ p(x|z)). Real and count columns: histograms on shared bins "
        "(densities; the bins span the test rows' range, widened by a tenth); binary and categorical columns: the "
        f'share of rows in each category.</p><div class="marginals">{"".join(figures)}</div>'
    )


def _correlations(run: Run, real: torch.Tensor, sampled: torch.Tensor) -> str:
    spec = run.spec
    numeric = [c.name for c in spec.columns if c.type in NUMERIC]
    if len(numeric) < 2:
        return f"<p>The table has {len(numeric)} real or count column: no correlations to show.</p>"
    real_corr = correlations(decode_rows(real, spec)[numeric])  # (P, P)
    sampled_corr = correlations(decode_rows(sampled, spec)[numeric])
    off = ~np.eye(len(numeric), dtype=bool)
    gap = np.nanmean(np.abs(real_corr - sampled_corr)[off])
    fig = correlation_figure(numeric, real_corr, sampled_corr)
    return (
        f"<p>Pearson correlations of the {len(numeric)} real and count columns, in the table's units: the test rows "
        f"(left) and the sampled rows (right). Mean absolute difference off the diagonal: {gap:.3f}. A constant "
        "column has no correlation (blank).</p>" + img(figure_uri(fig), "correlation matrices, real and sampled")
    )


def _sampled_rows(run: Run, sampled: torch.Tensor) -> str:
    return f"<p>The first {sampled.shape[0]} sampled rows, as `vaekit sample` writes them.</p>" + rows_table(
        decode_rows(sampled, run.spec)
    )


def synthetic_section(run: Run, ctx: Context) -> str:
    """The measures of synthetic rows (vaekit.evaluate.synthetic): from the newest `vaekit evaluate --synthetic N`
    report in the run directory, else measured here on `table_samples` rows drawn with the report's seed."""
    o = ctx.options
    found = next((r for r in json_reports(run.path) if "column_shapes" in r), None)
    if found is not None:
        report, origin = found, f"From {found['file']} in the run directory."
    else:
        ctx.log(f"synthetic data measures ({o.table_samples} rows)")
        report = synthetic_report(run, o.table_samples, seed=o.seed)
        origin = (
            f"Measured for this report on {report['num_synthetic']} rows drawn with seed {o.seed} (`vaekit evaluate "
            f"{run.path} --synthetic N --target COLUMN --out {run.path}/synthetic.json` writes a report this section "
            "shows instead, with train-on-synthetic-test-on-real for a target column)."
        )
    ml, dcr = report["ml_efficacy"], report["dcr"]
    rows: list[tuple[str, object]] = [
        ("column shapes", report["column_shapes_score"]),
        ("pair trends", report["pair_trends_score"]),
    ]
    if ml is not None:
        rows += [
            (f"TSTR {ml['metric']} ({ml['target']})", ml["tstr"]),
            (f"TRTR {ml['metric']} ({ml['target']})", ml["trtr"]),
        ]
    rows += [
        ("DCR median, synthetic", dcr["synthetic"]["p50"]),
        ("DCR median, real test", dcr["test"]["p50"]),
        ("synthetic rows closer than the test's 5th percentile", dcr["share_closer_than_test_p05"]),
        ("synthetic rows that copy a training row", dcr["share_copies"]),
        (
            "rows: synthetic / real train / real test",
            f"{report['num_synthetic']} / {report['num_train']} / {report['num_test']}",
        ),
    ]
    shapes = pd.DataFrame(
        [
            {"column": n, "type": s["type"], "measure": s["metric"], "score": s["score"]}
            for n, s in report["column_shapes"].items()
        ]
    )
    worst = sorted((t for t in report["pair_trends"] if t["score"] is not None), key=lambda t: t["score"])
    trends = pd.DataFrame(
        [
            {
                "columns": " & ".join(t["columns"]),
                "measure": t["metric"],
                "real r": "" if t["real"] is None else t["real"],
                "synthetic r": "" if t["synthetic"] is None else t["synthetic"],
                "score": t["score"],
            }
            for t in worst[: o.table_rows_shown]
        ]
    )
    target = (
        f" TSTR: a random forest trained on the synthetic rows predicts '{esc(ml['target'])}' on the real test rows; "
        "TRTR: the same trained on the real training rows. A TSTR close to TRTR means the synthetic rows keep what "
        "predicts the target."
        if ml is not None
        else ""
    )
    return (
        f"<p>{esc(origin)} Scores in [0, 1], 1 is identical to the real training rows: column shapes are 1 - the "
        "Kolmogorov-Smirnov statistic (real and count columns) or 1 - the total-variation distance (binary, "
        "categorical); pair trends 1 - |r<sub>real</sub> - r<sub>synthetic</sub>| / 2 of two numeric columns' "
        f"correlations, or 1 - the total-variation distance of two columns' joint frequencies (SDMetrics).{target} "
        "DCR: each row's distance to its closest training row (standardized columns, categories one-hot); a "
        "generator that does not copy puts about 5 % of its rows closer than the real test rows' 5th percentile, "
        "one that copies many more.</p>"
        + table(rows)
        + "<h3>Column shapes</h3>"
        + rows_table(shapes)
        + f"<h3>Pair trends, the {len(trends)} lowest</h3>"
        + (rows_table(trends) if len(trends) else "<p>No pair has a defined score.</p>")
    )


def _reconstructions(run: Run, ctx: Context) -> str:
    n = min(5, ctx.data.x.shape[0])
    x = ctx.data.x[:n]
    recon = run.reconstruct(x, y=ctx.data.cond["y"][:n] if "y" in ctx.data.cond else None)  # (n, D)
    both = decode_rows(torch.stack([x, recon], 1).flatten(0, 1), run.spec)  # (2n, D): row, reconstruction, ...
    both.insert(0, "version", ["test row", "reconstruction"] * n)
    both.insert(0, "row", np.repeat(np.arange(n), 2))
    return (
        f"<p>The first {n} test rows, each followed by its reconstruction: the point value of p(x|z) at the posterior "
        "mean (the mean of a real or count column, the more probable value of a binary one, the most probable "
        "category).</p>" + rows_table(both, "rows paired")
    )


def per_column_reconstruction(run: Run, evaluation: dict) -> str:
    """Each column's share of the reconstruction term E_q[log p(x|z)] (nats per row) of the evaluation."""
    per_column = evaluation.get("reconstruction_per_column")
    if not isinstance(per_column, dict):
        return ""
    types = {c.name: c.type for c in run.spec.columns}
    frame = pd.DataFrame(
        {
            "column": list(per_column),
            "type": [types.get(n, "?") for n in per_column],
            "nats per row": list(per_column.values()),
        }
    )
    return (
        "<h3>Reconstruction per column</h3><p>Each column's share of the reconstruction term E_q[log p(x|z)], in "
        "nats per row: log-densities of real columns in their own units, log-probabilities of the others.</p>"
        + rows_table(frame)
    )


def table_shape(run: Run) -> str:
    spec = run.spec
    counts = {t: sum(c.type == t for c in spec.columns) for t in ("real", "count", "binary", "categorical")}
    kinds = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
    label = f"; label column '{spec.label.name}'" if spec.label else ""
    return f"{len(spec.columns)} columns ({kinds}){label}"
