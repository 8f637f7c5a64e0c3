"""vaekit's MOSES metrics beside molsets' own get_all_metrics, on the same molecules, side by side.

    python benchmarks/moses_metrics_check.py [--quick] [--moses-python .venv-moses-ref/bin/python] [--out check.json]

The generated set mixes molecules of MOSES' training split, of its test split (outside the reference subset), a
few repeats and a few invalid strings; the references are the first rows of test and test_scaffolds and the novelty
is measured against the first rows of train, on both sides. molsets 0.3.1 does not import on current stacks: it runs
in its own virtual environment, made as ../shared/notes/moses-reference-metrics.md says (torch 2.13.0, rdkit,
fcd-torch, scipy, "pandas==1.5.3", "numpy<2", then molsets --no-deps), with a stand-in for the removed rdkit.six.
The data are read from ../shared/data/moses (the split as shipped in the molsets wheel, MIT).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from vaekit.evaluate import molecules  # noqa: E402

INVALID = ["C1CC", "c1cccc1", "CC(C", "xyz", ""]

# Run by the molsets environment's python: argv[1] the input JSON, argv[2] where to write molsets' metrics.
REFERENCE = """
import json, sys, time, types
import six
stub = types.ModuleType("rdkit.six")
stub.iteritems, stub.PY3, stub.moves = six.iteritems, True, six.moves
sys.modules["rdkit.six"] = stub
import moses

data = json.load(open(sys.argv[1]))
start = time.perf_counter()
metrics = moses.get_all_metrics(data["gen"], k=data["k"], n_jobs=1, device="cpu", test=data["test"],
                                test_scaffolds=data["test_scaffolds"], train=data["train"])
metrics = {k: float(v) for k, v in metrics.items()}
metrics["seconds"] = time.perf_counter() - start
json.dump(metrics, open(sys.argv[2], "w"))
"""


def read_smiles(path: Path, limit: int | None = None) -> list[str]:
    """The SMILES of a MOSES csv.gz (one a line under a `SMILES` header), the first `limit` of them."""
    out = []
    with gzip.open(path, "rt") as handle:
        header = handle.readline().strip()
        if header != "SMILES":
            raise SystemExit(f"{path}: expected a SMILES header, got {header!r}")
        for line in handle:
            out.append(line.strip())
            if limit is not None and len(out) == limit:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "moses")
    parser.add_argument("--moses-python", type=Path, default=ROOT / ".venv-moses-ref" / "bin" / "python")
    parser.add_argument("--from-train", type=int, default=900, help="generated molecules drawn from train")
    parser.add_argument("--from-test", type=int, default=99, help="generated molecules drawn from test")
    parser.add_argument("--repeats", type=int, default=10, help="generated molecules repeated")
    parser.add_argument("--reference-size", type=int, default=2000, help="rows of test and of test_scaffolds")
    parser.add_argument("--train-size", type=int, default=50000, help="rows of train for novelty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smoke run: about 200 molecules, 300 references")
    parser.add_argument("--out", type=Path, help="write both sides' metrics here as JSON")
    args = parser.parse_args()
    if args.quick:
        args.from_train, args.from_test, args.repeats, args.reference_size, args.train_size = 180, 20, 5, 300, 5000
    if not args.moses_python.exists():
        raise SystemExit(f"no molsets environment at {args.moses_python}: make it as the module docstring says")

    rng = random.Random(args.seed)
    train = read_smiles(args.data / "train.csv.gz", args.train_size)
    test_all = read_smiles(args.data / "test.csv.gz")
    test = test_all[: args.reference_size]
    test_scaffolds = read_smiles(args.data / "test_scaffolds.csv.gz", args.reference_size)
    gen = rng.sample(train, args.from_train) + rng.sample(test_all[args.reference_size :], args.from_test)
    gen += rng.sample(gen, args.repeats) + INVALID
    rng.shuffle(gen)
    k = [100, 1000]
    not_canonical = sum(molecules.canonical(s) != s for s in train)

    with tempfile.TemporaryDirectory() as tmp:
        inputs, outputs = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inputs.write_text(
            json.dumps({"gen": gen, "k": k, "test": test, "test_scaffolds": test_scaffolds, "train": train})
        )
        subprocess.run([str(args.moses_python), "-c", REFERENCE, str(inputs), str(outputs)], check=True)
        reference = json.loads(outputs.read_text())

    start = time.perf_counter()
    ours = molecules.moses_metrics(gen, test, test_scaffolds, set(train), unique_at=k)
    ours["seconds"] = time.perf_counter() - start

    print(
        f"{len(gen)} generated strings ({args.from_train} from train, {args.from_test} from test, {args.repeats} "
        f"repeats, {len(INVALID)} invalid); references: {len(test)} test, {len(test_scaffolds)} test_scaffolds; "
        f"novelty against {len(train)} train rows ({not_canonical} of them not RDKit-canonical today)"
    )
    print(f"{'metric':<14}{'molsets 0.3.1':>16}{'vaekit':>16}{'|difference|':>16}")
    worst = 0.0
    for name in list(reference) + [n for n in ours if n not in reference]:
        theirs, mine = reference.get(name, math.nan), ours.get(name, math.nan)
        diff = abs(theirs - mine)
        if name != "seconds" and math.isfinite(diff):
            worst = max(worst, diff)
        cell = lambda v: f"{v:>16.6f}" if math.isfinite(v) else f"{'-':>16}"  # noqa: E731
        gap = f"{diff:>16.2e}" if math.isfinite(diff) else f"{'-':>16}"
        print(f"{name:<14}{cell(theirs)}{cell(mine)}{gap}")
    print(f"largest |difference| over the metrics both compute: {worst:.3g}")
    if args.out:
        args.out.write_text(json.dumps({"molsets": reference, "vaekit": ours, "largest_difference": worst}, indent=1))


if __name__ == "__main__":
    main()
