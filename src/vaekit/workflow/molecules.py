"""Molecules drawn from a SMILES run, measured by the MOSES metrics (vaekit.evaluate.molecules): what
`vaekit evaluate RUN --molecules N` prints and writes.

Polykovskiy et al. 2020, "Molecular Sets (MOSES)": N molecules (30000 in the published table) sampled from the model
(z ~ p(z), then x ~ p(x|z) token by token), decoded to SMILES, against the benchmark's test and test_scaffolds sets
and, for novelty, the training set: the MOSES train file when the run was trained on `moses`, else the run's own
training split. The reference sets' statistics (fingerprints, fragments, scaffolds, ChemNet's activations and the
properties of 176 074 molecules each: 40 and 39 minutes on a shared core of the 2-core machine) are computed once
and kept in <cache>/moses-statistics/ under the sha256 of the file's bytes (`cached_reference_statistics`), as
molsets ships its precomputed test statistics: later evaluations against the same file read them back.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import sys
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from vaekit.atomic import WriteError, atomic_save_npz
from vaekit.data.moses import SCAFFOLDS, SPLITS, read_smiles
from vaekit.data.sequences import decode_texts
from vaekit.data.sources import cache_dir
from vaekit.errors import DataError, RunError, VaekitError
from vaekit.lock import RunLock
from vaekit.run import Run
from vaekit.workflow.data import load_run_data

MAX_MOLECULES = 1_000_000
SAMPLE_BATCH = 1000  # molecules drawn at a time (memory, not results)
MOSES_DIRECTORY = "moses"
STATISTICS_FOLDER = "moses-statistics"

if TYPE_CHECKING:
    from vaekit.evaluate.molecules import ReferenceStatistics


def reference_folder(run: Run, data_dir: str | None = None) -> Path:
    """<data dir>/moses, where the MOSES test and test_scaffolds files are looked for: --data-dir, else the run's
    data.data_dir, else the default data folder."""
    from vaekit.data.sources import default_data_dir

    root = data_dir or run.config.data.data_dir
    return (Path(root).expanduser() if root else default_data_dir()) / MOSES_DIRECTORY


def check_smiles_run(run: Run) -> None:
    """Refuse a run whose samples are not SMILES (a run of another kind, or text with another tokenizer)."""
    if not run.spec.is_smiles:
        vocabulary = run.spec.vocabulary if run.spec.kind == "sequence" else None
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


def cached_reference_statistics(path: Path, *, fcd: bool, device: str = "cpu") -> ReferenceStatistics:
    """The statistics of the reference SMILES file `path` (vaekit.evaluate.molecules.reference_statistics), read from
    the cache when it holds them for these bytes (with ChemNet's when `fcd`), else computed and kept there. A cache
    that cannot be read is computed again; one that cannot be written is said on stderr and skipped."""
    from vaekit.evaluate.molecules import STATISTICS_VERSION, reference_statistics, statistics_arrays

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    folder = cache_dir() / STATISTICS_FOLDER
    stem = f"{digest[:32]}-v{STATISTICS_VERSION}"
    kept = folder / f"{stem}-fcd.npz"  # with ChemNet's statistics, good for either
    target = kept if fcd else folder / f"{stem}.npz"
    with contextlib.ExitStack() as stack:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stack.enter_context(RunLock(folder, wait=True))  # a second evaluation waits for the first's statistics
        except (OSError, RunError) as error:
            print(f"could not keep the statistics of {path} in {folder} ({error})", file=sys.stderr)
            return reference_statistics(read_smiles(path), fcd=fcd, device=device)
        for candidate in [kept] if fcd else [kept, target]:
            stats = _read_kept(candidate)
            if stats is not None:
                return stats
        stats = reference_statistics(read_smiles(path), fcd=fcd, device=device)
        try:
            atomic_save_npz(target, statistics_arrays(stats))
        except WriteError as error:
            print(f"could not keep the statistics of {path} ({error})", file=sys.stderr)
        return stats


def _read_kept(path: Path) -> ReferenceStatistics | None:
    """Statistics kept at `path`, or None when there are none or they cannot be read (said on stderr)."""
    from vaekit.evaluate.molecules import statistics_from_arrays

    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return statistics_from_arrays(arrays)
    except (OSError, ValueError, zipfile.BadZipFile, DataError) as error:
        print(f"the cached statistics {path} are unreadable ({error}): computed again", file=sys.stderr)
        return None


def molecules_report(
    run: Run, num: int, *, seed: int = 0, data_dir: str | None = None, fcd: bool = True, device: str = "cpu"
) -> dict:
    """`num` molecules drawn with `seed`, their MOSES metrics against the test and test_scaffolds files of
    <data dir>/moses, novelty against the training molecules."""
    from vaekit.evaluate.molecules import moses_metrics, validity  # RDKit: imported when used

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
    references = {name: cached_reference_statistics(path, fcd=fcd, device=device) for name, path in files.items()}
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
