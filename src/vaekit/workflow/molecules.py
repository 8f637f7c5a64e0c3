"""Molecules drawn from a SMILES run, measured by the MOSES metrics (vaekit.evaluate.molecules): what
`vaekit evaluate RUN --molecules N` prints and writes.

Polykovskiy et al. 2020, "Molecular Sets (MOSES)": N molecules (30000 in the published table) sampled from the model
(z ~ p(z), then x ~ p(x|z) token by token), decoded to SMILES, against the benchmark's test and test_scaffolds sets
(their statistics computed once per evaluation) and, for novelty, the training set: the MOSES train file when the run
was trained on `moses`, else the run's own training split.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import torch

from vaekit.data.moses import SCAFFOLDS, SPLITS, read_smiles
from vaekit.data.sequences import decode_texts
from vaekit.errors import VaekitError
from vaekit.run import Run
from vaekit.workflow.data import load_run_data

MAX_MOLECULES = 1_000_000
SAMPLE_BATCH = 1000  # molecules drawn at a time (memory, not results)
MOSES_DIRECTORY = "moses"


def reference_folder(run: Run, data_dir: str | None = None) -> Path:
    """<data dir>/moses, where the MOSES test and test_scaffolds files are looked for: --data-dir, else the run's
    data.data_dir, else the default data folder."""
    from vaekit.data.sources import default_data_dir

    root = data_dir or run.config.data.data_dir
    return (Path(root).expanduser() if root else default_data_dir()) / MOSES_DIRECTORY


def check_smiles_run(run: Run) -> None:
    """Refuse a run whose samples are not SMILES (a run of another kind, or text with another tokenizer)."""
    vocabulary = run.spec.vocabulary if run.spec.kind == "sequence" else None
    if vocabulary is None or vocabulary.tokenizer != "smiles":
        what = f"{run.spec.kind} data" if vocabulary is None else f"text with the {vocabulary.tokenizer} tokenizer"
        raise VaekitError(
            f"--molecules measures molecules drawn as SMILES; run '{run.path}' models {what}. Use it with a run "
            "trained on SMILES (data.tokenizer=smiles, e.g. data.source=moses)."
        )


def draw_smiles(run: Run, num: int, generator: torch.Generator) -> list[str]:
    """`num` SMILES strings drawn from the run, SAMPLE_BATCH at a time (invalid ones included)."""
    smiles: list[str] = []
    for start in range(0, num, SAMPLE_BATCH):
        x = run.sample(min(SAMPLE_BATCH, num - start), generator=generator)  # (b, T) token ids
        smiles.extend(decode_texts(run.spec, x))
    return smiles


def training_smiles(run: Run, folder: Path) -> tuple[list[str], str]:
    """The training molecules novelty is measured against, and where they came from."""
    if run.config.data.source == MOSES_DIRECTORY:
        path = folder / SPLITS["train"]
        if path.is_file():
            return read_smiles(path), str(path)
    data = load_run_data(copy.deepcopy(run.config), "cpu", run.spec).data
    return decode_texts(run.spec, data.train), f"the run's training split ({len(data.train)} molecules)"


def molecules_report(
    run: Run, num: int, *, seed: int = 0, data_dir: str | None = None, fcd: bool = True, device: str = "cpu"
) -> dict:
    """`num` molecules drawn with `seed`, their MOSES metrics against the test and test_scaffolds files of
    <data dir>/moses, novelty against the training molecules."""
    from vaekit.evaluate.molecules import moses_metrics, reference_statistics, validity  # RDKit: imported when used

    check_smiles_run(run)
    if not 1 <= num <= MAX_MOLECULES:
        raise VaekitError(f"--molecules must be from 1 to {MAX_MOLECULES} molecules, got {num}.")
    folder = reference_folder(run, data_dir)
    files = {"test": folder / SPLITS["test"], "test_scaffolds": folder / SCAFFOLDS}
    missing = [p.name for p in files.values() if not p.is_file()]
    if missing:
        raise VaekitError(
            f"--molecules measures against the MOSES test sets, and {folder} lacks {', '.join(missing)}. Fix: give "
            "--data-dir DIR whose 'moses' subfolder holds test.csv.gz and test_scaffolds.csv.gz (training once on "
            "data.source=moses downloads them), or set VAEKIT_DATA."
        )
    start = time.perf_counter()
    generator = torch.Generator(device=run.device).manual_seed(seed)
    smiles = draw_smiles(run, num, generator)
    train, train_from = training_smiles(run, folder)
    references = {name: reference_statistics(read_smiles(path), fcd=fcd, device=device) for name, path in files.items()}
    if validity(smiles) > 0:
        metrics = moses_metrics(
            smiles, references["test"], references["test_scaffolds"], set(train), fcd=fcd, device=device
        )
    else:  # nothing else is defined on no molecule
        metrics = {"valid": 0.0}
    return {
        "metrics": {k: None if math.isnan(v) else v for k, v in metrics.items()},  # undefined (no scaffold): null
        "num_molecules": num,
        "seed": seed,
        "data": run.config.data.source,
        "references": str(folder),
        "train": train_from,
        "fcd": fcd,
        "samples": smiles[:20],
        "seconds": time.perf_counter() - start,
    }
