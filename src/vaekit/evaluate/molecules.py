"""The MOSES metrics of generated molecules, as pure functions of lists of SMILES.

Molecular Sets (MOSES), Polykovskiy et al. 2020, "Molecular Sets (MOSES): A Benchmarking Platform for Molecular
Generation Models", Front. Pharmacol. 11:565644. The definitions follow the reference implementation, the `molsets`
package (moses/metrics/metrics.py and utils.py, MIT), so that a number here stands beside a row of its table:

- validity: the fraction of strings RDKit parses and sanitizes (an empty string is invalid);
- unique@k: among the first k *valid* molecules (canonical SMILES), the fraction that are distinct;
- novelty: among the distinct valid molecules, the fraction whose canonical SMILES is not in the training set;
- FCD: the Frechet ChemNet Distance (Preuer et al. 2018) between the ChemNet activations of the valid generated
  molecules and of the reference set, through `fcd-torch` (MIT; ChemNet's weights ship inside its wheel);
- SNN: the mean over generated molecules of the Tanimoto similarity to the nearest reference molecule;
- Frag / Scaf: the cosine similarity of the counts of BRICS fragments (Degen et al. 2008) / Bemis-Murcko scaffolds
  with at least two rings (Bemis & Murcko 1996), generated against reference;
- IntDiv_p: 1 - mean_i (mean_j T_ij^p)^(1/p) over all ordered pairs of valid generated molecules, self-pairs included;
- Filters: the fraction of valid molecules that pass the medicinal-chemistry (MCF) and PAINS (Baell & Holloway 2010)
  substructure filters, hold only C N S O F Cl Br H, carry no formal charge and no ring of 8 or more atoms;
- logP, SA, QED, weight: the Wasserstein-1 distance between the generated and the test molecules' distributions of
  Crippen's logP, Ertl & Schuffenhauer's synthetic accessibility score, Bickerton et al.'s QED and molecular weight.
Fingerprints are Morgan's (radius 2, 1024 bits); T is the Tanimoto similarity of two fingerprints (1 when both are
empty). Every metric after validity is measured on the valid molecules only, duplicates kept.

The reference sets' statistics (`ReferenceStatistics`) are computed once and passed in, so that evaluating many
samples against the 176 074 test molecules costs one pass over them. Everything runs in this process (n_jobs=1).
"""

from __future__ import annotations

import csv
import functools
import math
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import QED, Crippen, Descriptors
from rdkit.Chem import rdFingerprintGenerator as fingerprint_generators
from rdkit.Chem.Scaffolds import MurckoScaffold
from scipy.stats import wasserstein_distance

from vaekit.errors import DataError

FINGERPRINT_RADIUS = 2
FINGERPRINT_BITS = 1024
SCAFFOLD_MIN_RINGS = 2  # molsets' compute_scaffolds default: one-ring scaffolds (a benzene) are not counted
FILTER_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
FILTER_MAX_RING = 7  # a ring of 8 atoms or more fails the filters
UNIQUE_AT = (1000, 10000)
# Rows of reference fingerprints per block of the Tanimoto matrix: (block, G) float64, a few hundred MB at G = 30000
TANIMOTO_BLOCK = 1024

_FILTER_FILES = ("mcf.csv", "wehi_pains.csv")  # molsets 0.3.1's package data, MIT: see data/moses_filters/NOTICE


def _quiet_rdkit() -> None:
    # Invalid generated strings are expected; RDKit would print a line for each of them.
    RDLogger.DisableLog("rdApp.*")


def parse(smiles: str) -> Chem.Mol | None:
    """An RDKit molecule from a SMILES string, or None where molsets counts the string invalid.

    As molsets' get_mol: an empty string, one RDKit cannot parse, or one that fails sanitization is invalid.
    """
    if not isinstance(smiles, str):
        raise DataError(f"a SMILES string was expected, got {type(smiles).__name__} ({smiles!r})")
    if not smiles:
        return None
    _quiet_rdkit()
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    try:
        Chem.SanitizeMol(mol)
    except ValueError:
        return None
    return mol


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES of a string (None if invalid), the form every comparison here is made in."""
    mol = parse(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def validity(smiles: Sequence[str]) -> float:
    """The fraction of the strings that are valid molecules (molsets' `valid`)."""
    _require_some(smiles, "validity")
    return sum(parse(s) is not None for s in smiles) / len(smiles)


def valid_canonical(smiles: Iterable[str]) -> list[str]:
    """The canonical SMILES of the valid strings, in order, duplicates kept (molsets' remove_invalid)."""
    return [c for c in map(canonical, smiles) if c is not None]


def uniqueness(smiles: Sequence[str], k: int | None = None) -> float:
    """unique@k: the fraction of distinct molecules among the first k valid ones (all of them if k is None).

    Pass valid molecules only (`valid_canonical`), as molsets does; fewer than k gives the fraction among all of them,
    with a warning, as molsets does.
    """
    if k is not None:
        if len(smiles) < k:
            warnings.warn(f"unique@{k} measured on the {len(smiles)} valid molecules there are", stacklevel=2)
        smiles = smiles[:k]
    _require_some(smiles, "uniqueness")
    forms = [canonical(s) for s in smiles]
    bad = [s for s, c in zip(smiles, forms, strict=True) if c is None]
    if bad:
        raise DataError(
            f"uniqueness counts valid molecules only, got {len(bad)} invalid ones (first: {bad[0]!r}): "
            "pass valid_canonical(smiles)"
        )
    return len(set(forms)) / len(forms)


def novelty(smiles: Iterable[str], train: Iterable[str] | set[str]) -> float:
    """The fraction of the distinct valid molecules whose canonical SMILES is not in `train`.

    `train` is compared as given, as molsets does: give canonical SMILES (the MOSES split is), or a set of them made
    once with `canonical_set` for many calls.
    """
    generated = {c for c in map(canonical, smiles) if c is not None}
    if not generated:
        raise DataError("novelty needs at least one valid molecule, got none")
    train_set = train if isinstance(train, set | frozenset) else set(train)
    return len(generated - train_set) / len(generated)


def canonical_set(smiles: Iterable[str]) -> set[str]:
    """The set of canonical SMILES of the valid strings (a training set to measure novelty against)."""
    return set(valid_canonical(smiles))


# --- fingerprints and Tanimoto similarities --------------------------------------------------------------------------


@functools.cache
def _morgan_generator():
    return fingerprint_generators.GetMorganGenerator(radius=FINGERPRINT_RADIUS, fpSize=FINGERPRINT_BITS)


def fingerprints(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """Morgan fingerprints (radius 2, 1024 bits) of molecules as a (N, 1024) uint8 array of 0/1."""
    generator = _morgan_generator()
    out = np.zeros((len(mols), FINGERPRINT_BITS), dtype=np.uint8)  # (N, 1024)
    for i, mol in enumerate(mols):
        out[i] = generator.GetFingerprintAsNumPy(mol)
    return out


def _tanimoto_blocks(reference: np.ndarray, generated: np.ndarray) -> Iterator[np.ndarray]:
    """The Tanimoto matrix T[r, g] in row blocks of the reference, float64, 1 where both fingerprints are empty.

    The bit counts are computed in float32, where they are exact (integers up to D = 1024 < 2^24) at twice float64's
    speed; the ratio is float64."""
    gen = generated.astype(np.float32)  # (G, D)
    gen_bits = gen.sum(1, dtype=np.float64)  # (G,)
    for start in range(0, len(reference), TANIMOTO_BLOCK):
        ref = reference[start : start + TANIMOTO_BLOCK].astype(np.float32)  # (R, D)
        both = (ref @ gen.T).astype(np.float64)  # (R, G): bits set in both, exact
        either = ref.sum(1, dtype=np.float64)[:, None] + gen_bits[None, :] - both  # (R, G): bits set in either
        with np.errstate(invalid="ignore", divide="ignore"):
            yield np.where(either > 0, both / np.where(either > 0, either, 1.0), 1.0)


def nearest_neighbour_similarity(reference_fps: np.ndarray, generated_fps: np.ndarray) -> float:
    """SNN: the mean over generated molecules of the largest Tanimoto similarity to a reference molecule."""
    _require_rows(reference_fps, "the reference set")
    _require_rows(generated_fps, "the generated molecules")
    best = np.zeros(len(generated_fps))  # (G,)
    for block in _tanimoto_blocks(reference_fps, generated_fps):
        best = np.maximum(best, block.max(0))
    return float(best.mean())


def internal_diversity(generated_fps: np.ndarray, p: int = 1) -> float:
    """IntDiv_p = 1 - mean_i (mean_j T_ij^p)^(1/p) over all ordered pairs of molecules, self-pairs included.

    p=1 is MOSES' IntDiv1, p=2 its IntDiv2 (Benhenda 2017's internal diversity, as molsets computes them).
    """
    _require_rows(generated_fps, "the generated molecules")
    total = np.zeros(len(generated_fps))  # (G,): sum_j T_ij^p
    for block in _tanimoto_blocks(generated_fps, generated_fps):
        total += (block**p).sum(0)
    return float(1.0 - ((total / len(generated_fps)) ** (1.0 / p)).mean())


# --- fragments, scaffolds and their cosine similarity ----------------------------------------------------------------


def fragment_counts(mols: Iterable[Chem.Mol]) -> Counter[str]:
    """How often each BRICS fragment (canonical SMILES, dummy atoms at the broken bonds) occurs in the molecules."""
    counts: Counter[str] = Counter()
    for mol in mols:
        counts.update(Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(mol)).split("."))
    return counts


def scaffold(mol: Chem.Mol, min_rings: int = SCAFFOLD_MIN_RINGS) -> str | None:
    """The Bemis-Murcko scaffold's canonical SMILES, or None when it has fewer than `min_rings` rings."""
    try:
        core = MurckoScaffold.GetScaffoldForMol(mol)
    except (ValueError, RuntimeError):
        return None
    smiles = Chem.MolToSmiles(core)
    if not smiles or core.GetRingInfo().NumRings() < min_rings:
        return None
    return smiles


def scaffold_counts(mols: Iterable[Chem.Mol], min_rings: int = SCAFFOLD_MIN_RINGS) -> Counter[str]:
    """How often each scaffold of at least `min_rings` rings occurs in the molecules."""
    return Counter(s for s in (scaffold(m, min_rings) for m in mols) if s is not None)


def cosine_similarity(reference: Counter[str], generated: Counter[str]) -> float:
    """The cosine of two count vectors indexed by name (absent names count 0); NaN if either is empty, as molsets."""
    if not reference or not generated:
        return math.nan
    keys = reference.keys() | generated.keys()
    ref = np.array([reference[k] for k in keys], dtype=np.float64)
    gen = np.array([generated[k] for k in keys], dtype=np.float64)
    return float(ref @ gen / (np.linalg.norm(ref) * np.linalg.norm(gen)))


# --- filters ---------------------------------------------------------------------------------------------------------


@functools.cache
def filter_patterns() -> tuple[Chem.Mol, ...]:
    """The MCF and PAINS SMARTS patterns that molsets filters with (its mcf.csv and wehi_pains.csv)."""
    folder = resources.files("vaekit.evaluate") / "data" / "moses_filters"
    patterns = []
    for name in _FILTER_FILES:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        if name == "mcf.csv":  # a header (names,smarts), then name, SMARTS
            smarts = [row[1] for row in rows[1:]]
        else:  # no header: SMARTS, name
            smarts = [row[0] for row in rows]
        for text in smarts:
            pattern = Chem.MolFromSmarts(text.strip())
            if pattern is None:
                raise DataError(f"vaekit's filter file {name} holds a SMARTS RDKit cannot read: {text.strip()!r}")
            patterns.append(pattern)
    return tuple(patterns)


def passes_filters(mol: Chem.Mol) -> bool:
    """Whether a molecule passes MOSES' filters: MCF and PAINS, allowed atoms, no charge, no ring of 8 or more."""
    if any(len(ring) > FILTER_MAX_RING for ring in mol.GetRingInfo().AtomRings()):
        return False
    if any(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms()):
        return False
    if any(atom.GetSymbol() not in FILTER_ATOMS for atom in mol.GetAtoms()):
        return False
    with_hydrogens = Chem.AddHs(mol)  # the PAINS patterns name hydrogens ([#1]) explicitly
    if any(with_hydrogens.HasSubstructMatch(pattern) for pattern in filter_patterns()):
        return False
    smiles = Chem.MolToSmiles(mol, isomericSmiles=False)
    return bool(smiles) and parse(smiles) is not None


def filters(mols: Sequence[Chem.Mol]) -> float:
    """The fraction of the molecules that pass MOSES' filters (`passes_filters`)."""
    _require_some(mols, "filters")
    return sum(map(passes_filters, mols)) / len(mols)


# --- Frechet ChemNet Distance ----------------------------------------------------------------------------------------


@functools.cache
def _chemnet(device: str, batch_size: int):
    try:
        from fcd_torch import FCD
    except ImportError as error:  # pragma: no cover - a dependency; kept clear for trimmed installs
        raise DataError("the Frechet ChemNet Distance needs fcd-torch: pip install fcd-torch") from error
    return FCD(device=device, n_jobs=1, batch_size=batch_size)


@dataclass(frozen=True)
class ChemNetStatistics:
    """The mean (512,) and covariance (512, 512) of ChemNet's penultimate activations over a set of molecules."""

    mu: np.ndarray
    sigma: np.ndarray


def chemnet_statistics(smiles: Sequence[str], device: str = "cpu", batch_size: int = 512) -> ChemNetStatistics:
    """ChemNet activation statistics of valid SMILES (canonicalized first, as fcd-torch does), for the FCD."""
    import torch
    from fcd_torch.utils import SmilesDataset
    from torch.utils.data import DataLoader

    if len(smiles) < 2:
        raise DataError(f"the FCD needs at least 2 valid molecules on each side, got {len(smiles)}")
    model = _chemnet(device, batch_size).model.to(device)
    parts = []
    with torch.no_grad():
        for batch in DataLoader(SmilesDataset(list(smiles), canonize=True), batch_size=batch_size):  # (B, T, V)
            parts.append(model(batch.transpose(1, 2).float().to(device)).cpu().double().numpy())  # (B, 512)
    activations = np.concatenate(parts)  # (N, 512)
    return ChemNetStatistics(mu=activations.mean(0), sigma=np.cov(activations.T))


def frechet_chemnet_distance(reference: ChemNetStatistics, generated: ChemNetStatistics, eps: float = 1e-6) -> float:
    """FCD (Preuer et al. 2018): ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)).

    As fcd-torch: where the product's square root is not finite, eps I is added to both covariances first; the
    square root's imaginary part, round-off of a near-singular product, is dropped when small.
    """
    from scipy import linalg

    diff = reference.mu - generated.mu  # (512,)
    covmean = linalg.sqrtm(reference.sigma @ generated.sigma)
    if not np.isfinite(covmean).all():
        offset = eps * np.eye(len(diff))
        covmean = linalg.sqrtm((reference.sigma + offset) @ (generated.sigma + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise DataError(f"the FCD's matrix square root has an imaginary part of {np.abs(covmean.imag).max():.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(reference.sigma) + np.trace(generated.sigma) - 2 * np.trace(covmean))


# --- property distributions ------------------------------------------------------------------------------------------


def _synthetic_accessibility(mol: Chem.Mol) -> float:
    from rdkit.Contrib.SA_Score import sascorer  # RDKit's own copy of Ertl & Schuffenhauer 2009, as molsets ships

    return sascorer.calculateScore(mol)


PROPERTIES = {
    "logP": Crippen.MolLogP,
    "SA": _synthetic_accessibility,
    "QED": QED.qed,
    "weight": Descriptors.MolWt,
}


def properties(mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
    """Each of MOSES' properties (logP, SA, QED, weight) of each molecule: name -> (N,) float64."""
    return {name: np.array([f(m) for m in mols], dtype=np.float64) for name, f in PROPERTIES.items()}


def property_distance(reference: np.ndarray, generated: np.ndarray) -> float:
    """The Wasserstein-1 distance between two samples of a property (molsets' WassersteinMetric)."""
    return float(wasserstein_distance(reference, generated))


# --- reference statistics and all the metrics at once ----------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceStatistics:
    """What the metrics need of a reference set (MOSES' test or test_scaffolds), computed once.

    fingerprints: (N, 1024) uint8 Morgan fingerprints; fragments and scaffolds: counts; chemnet: FCD statistics, or
    None when computed without the FCD; properties: each molecule's logP, SA, QED and weight, name -> (N,).
    """

    fingerprints: np.ndarray
    fragments: Counter[str]
    scaffolds: Counter[str]
    chemnet: ChemNetStatistics | None
    properties: dict[str, np.ndarray]


def reference_statistics(
    smiles: Sequence[str], *, fcd: bool = True, device: str = "cpu", batch_size: int = 512
) -> ReferenceStatistics:
    """The statistics of a reference set of SMILES (every one must be valid), as molsets' precalc computes them."""
    mols = [parse(s) for s in smiles]
    bad = [s for s, m in zip(smiles, mols, strict=True) if m is None]
    if bad:
        raise DataError(f"the reference set holds {len(bad)} invalid SMILES (first: {bad[0]!r}): remove them")
    _require_some(mols, "a reference set")
    return ReferenceStatistics(
        fingerprints=fingerprints(mols),
        fragments=fragment_counts(mols),
        scaffolds=scaffold_counts(mols),
        chemnet=chemnet_statistics(smiles, device, batch_size) if fcd else None,
        properties=properties(mols),
    )


STATISTICS_VERSION = 1  # of statistics_arrays' layout: a cache written under another version is computed again


def statistics_arrays(stats: ReferenceStatistics) -> dict[str, np.ndarray]:
    """A reference set's statistics as named arrays (for np.savez, read back by statistics_from_arrays without
    pickling): fingerprints packed 8 to a byte, counts as key and value arrays."""
    arrays = {
        "version": np.array(STATISTICS_VERSION),
        "fingerprint_bits": np.array(stats.fingerprints.shape[1]),
        "fingerprints": np.packbits(stats.fingerprints, axis=1),  # (N, 128) uint8
    }
    for name, counts in (("fragments", stats.fragments), ("scaffolds", stats.scaffolds)):
        arrays[f"{name}_keys"] = np.array(list(counts), dtype=np.str_)
        arrays[f"{name}_counts"] = np.array(list(counts.values()), dtype=np.int64)
    if stats.chemnet is not None:
        arrays["chemnet_mu"], arrays["chemnet_sigma"] = stats.chemnet.mu, stats.chemnet.sigma
    for name, values in stats.properties.items():
        arrays[f"property_{name}"] = values
    return arrays


def statistics_from_arrays(arrays: Mapping[str, np.ndarray]) -> ReferenceStatistics:
    """The inverse of statistics_arrays. DataError when the arrays are of another version or incomplete."""
    try:
        if int(arrays["version"]) != STATISTICS_VERSION:
            raise DataError(f"statistics of version {int(arrays['version'])}, not {STATISTICS_VERSION}")
        bits = int(arrays["fingerprint_bits"])
        counts = {
            name: Counter(dict(zip(arrays[f"{name}_keys"].tolist(), arrays[f"{name}_counts"].tolist(), strict=True)))
            for name in ("fragments", "scaffolds")
        }
        chemnet = None
        if "chemnet_mu" in arrays:
            chemnet = ChemNetStatistics(mu=arrays["chemnet_mu"], sigma=arrays["chemnet_sigma"])
        return ReferenceStatistics(
            fingerprints=np.unpackbits(arrays["fingerprints"], axis=1, count=bits),  # (N, bits) uint8
            fragments=counts["fragments"],
            scaffolds=counts["scaffolds"],
            chemnet=chemnet,
            properties={name: np.asarray(arrays[f"property_{name}"], dtype=np.float64) for name in PROPERTIES},
        )
    except KeyError as error:
        raise DataError(f"the statistics lack {error.args[0]!r}") from None


def moses_metrics(
    generated: Sequence[str],
    test: Sequence[str] | ReferenceStatistics,
    test_scaffolds: Sequence[str] | ReferenceStatistics | None,
    train: Iterable[str] | set[str] | None,
    *,
    unique_at: Sequence[int] = UNIQUE_AT,
    fcd: bool = True,
    device: str = "cpu",
    batch_size: int = 512,
) -> dict[str, float]:
    """All of MOSES' metrics of generated SMILES, under molsets' names (valid, unique@1000, FCD/Test, SNN/TestSF, ...).

    As molsets' get_all_metrics with n_jobs=1 and the same sets.

    Args:
        generated: N generated strings (30000 in the published table), invalid ones included.
        test, test_scaffolds: the reference sets, as SMILES or as their `reference_statistics` (test_scaffolds None
            leaves out the /TestSF metrics).
        train: the training set's canonical SMILES (None leaves out Novelty).
        fcd: False leaves out FCD/Test and FCD/TestSF (they need fcd-torch's ChemNet, about 5 s to load on a CPU).
    """
    _require_some(generated, "the MOSES metrics")
    metrics = {"valid": validity(generated)}
    valid = valid_canonical(generated)
    if not valid:
        raise DataError(f"none of the {len(generated)} generated strings is a valid molecule: nothing to measure")
    for k in unique_at:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fewer than k valid molecules: the key says k, the value is of all
            metrics[f"unique@{k}"] = uniqueness(valid, k)
    mols = [m for m in map(parse, valid) if m is not None]  # as molsets: the canonical strings parsed again
    generated_fps = fingerprints(mols)  # (G, 1024)
    generated_chemnet = chemnet_statistics(valid, device, batch_size) if fcd and len(valid) >= 2 else None
    references = {"Test": test, "TestSF": test_scaffolds}
    measured = {}
    for suffix, reference in references.items():
        if reference is None:
            continue
        if not isinstance(reference, ReferenceStatistics):
            reference = reference_statistics(reference, fcd=fcd, device=device, batch_size=batch_size)
        measured[suffix] = reference
        if fcd:
            ok = reference.chemnet is not None and generated_chemnet is not None
            metrics[f"FCD/{suffix}"] = (
                frechet_chemnet_distance(reference.chemnet, generated_chemnet) if ok else math.nan
            )
        metrics[f"SNN/{suffix}"] = nearest_neighbour_similarity(reference.fingerprints, generated_fps)
        metrics[f"Frag/{suffix}"] = cosine_similarity(reference.fragments, fragment_counts(mols))
        metrics[f"Scaf/{suffix}"] = cosine_similarity(reference.scaffolds, scaffold_counts(mols))
    metrics["IntDiv"] = internal_diversity(generated_fps, p=1)
    metrics["IntDiv2"] = internal_diversity(generated_fps, p=2)
    metrics["Filters"] = filters(mols)
    generated_properties = properties(mols)
    for name, values in measured["Test"].properties.items():
        metrics[name] = property_distance(values, generated_properties[name])
    if train is not None:
        metrics["Novelty"] = novelty(valid, train)
    return metrics


def _require_some(items: Sequence, what: str) -> None:
    if len(items) == 0:
        raise DataError(f"{what} needs at least one molecule, got an empty list")


def _require_rows(fps: np.ndarray, what: str) -> None:
    if fps.ndim != 2 or fps.shape[0] == 0:
        raise DataError(f"{what} has no fingerprints (shape {fps.shape}): pass at least one valid molecule")
