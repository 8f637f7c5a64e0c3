"""The sections of an image run: samples, reconstructions, traversals, KL per dimension, codebook usage."""

from __future__ import annotations

import torch

from vaekit.evaluate.codebook import codebook_usage
from vaekit.report.html import esc, img, kl_section
from vaekit.report.options import Context, ReportOptions, Sections
from vaekit.report.views import COLLAPSED_KL, INACTIVE_VARIANCE, bar_chart, figure_uri, images_uri
from vaekit.run import Run
from vaekit.sampling import traverse

MAX_TRAVERSED = 32  # traversal rows at most (the highest-KL dimensions)
RECONSTRUCTIONS_PER_ROW = 8


def image_sections(ctx: Context) -> Sections:
    run, o, data = ctx.run, ctx.options, ctx.data
    caps = run.capabilities
    sections: Sections = []

    ctx.log("samples")
    note = run.prior_note()
    generator = torch.Generator(device=run.device).manual_seed(o.seed)
    samples = run.sample(o.num_samples, generator=generator)  # (N, C, H, W)
    cols = run.config.model.num_classes if "labels" in caps else None
    body = img(images_uri(samples, nrow=cols), "samples from the prior", "pix")
    if "labels" in caps:
        body = "<p>Column k: class k.</p>" + body
    if note:
        body = f'<p class="note">{esc(note)}</p>' + body
    sections.append(("Samples from the prior", body))

    n = min(o.num_reconstructions, data.x.shape[0])
    head = {k: v[:n] for k, v in data.cond.items()}
    recon = run.reconstruct(data.x[:n], y=head.get("y"))  # (n, C, H, W)
    per_row = min(RECONSTRUCTIONS_PER_ROW, n)
    rows = "the top row" if n <= per_row else "rows 1, 3, ..."
    sections.append(
        (
            "Reconstructions",
            f"<p>{n} test images ({rows}), each above its reconstruction (the mean of p(x|z) at the posterior mean)."
            "</p>"
            + img(
                images_uri(_interleave(data.x[:n], recon, per_row), nrow=per_row),
                "test images and reconstructions",
                "pix",
            ),
        )
    )

    if ctx.ranking is not None:
        ctx.log("traversals")
        sections.append(("Latent traversals", _traversals(run, data, ctx.ranking, o)))
        sections += kl_section(ctx.ranking)

    if "codes" in caps:
        ctx.log("codebook usage")
        codes = run.encode_codes(data.x)  # (N, h, w)
        counts = torch.bincount(codes.flatten().cpu(), minlength=run.model.num_codes)  # (K,)
        fig = bar_chart(counts.tolist(), [str(k) for k in range(len(counts))], "codebook usage", "positions")
        usage = codebook_usage(counts)
        sections.append(
            (
                "Codebook usage",
                f"<p>Positions assigned to each code over the code maps of {codes.shape[0]} test images "
                f"({codes.shape[1]}x{codes.shape[2]} codes each): {usage['dead_codes']} of {usage['codebook_size']} "
                f"codes unused, perplexity {usage['codebook_perplexity']:.1f}.</p>"
                + img(figure_uri(fig), "codebook usage histogram"),
            )
        )
    return sections


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
