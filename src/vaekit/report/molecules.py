"""The "Molecules" section of a run on SMILES (a sequence run whose tokenizer is `smiles`): sampled molecules drawn
with RDKit (vaekit.views.molecules), and the MOSES metrics (Polykovskiy et al. 2020) of the newest `vaekit evaluate
RUN --molecules N` report in the run directory, or the command that writes one.

Samples are drawn as `--molecules` draws them (vaekit.workflow.molecules.draw_smiles: z ~ p(z), then x ~ p(x|z)
token by token); the strings RDKit cannot parse are listed as text with their count.
"""

from __future__ import annotations

import torch

from vaekit.report.html import esc, img, table
from vaekit.report.options import Context
from vaekit.report.views import json_reports
from vaekit.run import Run
from vaekit.views.molecules import molecule_grid_uri
from vaekit.workflow.molecules import draw_smiles


def molecules_report(run: Run) -> dict | None:
    """The newest `--molecules` report (a JSON object with `num_molecules` and `metrics`) in the run directory."""
    return next((r for r in json_reports(run.path) if "num_molecules" in r and "metrics" in r), None)


@torch.no_grad()
def molecules_section(ctx: Context) -> str:
    from vaekit.evaluate.molecules import parse

    run, o = ctx.run, ctx.options
    generator = torch.Generator(device=run.device).manual_seed(o.seed)
    smiles = draw_smiles(run, o.num_molecules, generator)
    invalid = [s for s in smiles if parse(s) is None]
    uri = molecule_grid_uri(smiles)
    parts = [
        f"<p>{len(smiles)} molecules drawn from the model (z ~ p(z), then x ~ p(x|z) token by token, as "
        f"<code>vaekit evaluate --molecules</code> draws them): {len(smiles) - len(invalid)} valid, "
        f"{len(invalid)} that RDKit cannot parse.</p>",
        img(uri, "sampled molecules drawn with RDKit") if uri else "<p>None of them is a valid molecule.</p>",
    ]
    if invalid:
        items = "".join(f"<li><code>{esc(s or '(empty)')}</code></li>" for s in invalid)
        parts.append(f"<details><summary>the {len(invalid)} invalid strings</summary><ul>{items}</ul></details>")
    found = molecules_report(run)
    if found is None:
        parts.append(
            '<p class="note">No MOSES metrics in the run directory: '
            f"<code>vaekit evaluate {esc(run.path)} --molecules 30000 --out {esc(run.path)}/molecules.json</code> "
            "writes them (30000 molecules as in the published table).</p>"
        )
    else:
        rows = [(k, "undefined" if v is None else v) for k, v in found["metrics"].items()]
        parts.append(
            f"<h3>MOSES metrics</h3><p>From {esc(found['file'])} in the run directory: {found['num_molecules']} "
            f"molecules (seed {found.get('seed', '?')}), against the test and test_scaffolds sets of "
            f"{esc(found.get('references', '?'))}; novelty against {esc(found.get('train', '?'))}. Valid, unique@k, "
            "SNN, Frag, Scaf, IntDiv, Filters and Novelty: higher is better; FCD and the property distances (logP, "
            "SA, QED, weight): lower is better.</p>" + table(rows)
        )
    return "".join(parts)
