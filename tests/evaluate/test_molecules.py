"""The MOSES metrics (vaekit.evaluate.molecules) on hand-made sets of SMILES whose values are known: identical sets
are similar by 1, disjoint ones by 0, an invalid string costs 1/n of validity, duplicates cost uniqueness, a copy
of the training set is not novel, one repeated molecule has no internal diversity; Tanimoto similarities checked
against RDKit's own bit-vector Tanimoto."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from rdkit import DataStructs
from rdkit.Chem import rdFingerprintGenerator

from vaekit.errors import DataError
from vaekit.evaluate import molecules as mol

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
NAPHTHALENE = "c1ccc2ccccc2c1"
BIPHENYL = "c1ccc(-c2ccccc2)cc1"
DRUGS = [ASPIRIN, PARACETAMOL, CAFFEINE, NAPHTHALENE, BIPHENYL]


def parsed(smiles: list[str]):
    return [mol.parse(s) for s in smiles]


def rdkit_tanimoto(a: str, b: str) -> float:
    """Tanimoto of Morgan (r=2, 1024 bits) bit vectors by RDKit's DataStructs, independent of our numpy blocks."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    fa, fb = (generator.GetFingerprint(mol.parse(s)) for s in (a, b))
    return DataStructs.TanimotoSimilarity(fa, fb)


def test_validity_counts_one_invalid_string_as_one_in_n():
    smiles = DRUGS + ["C1CC"]  # an unclosed ring
    assert mol.validity(smiles) == pytest.approx(5 / 6, abs=1e-15)
    # empty strings, unparseable text and unkekulizable aromatics are all invalid, as in molsets
    assert mol.validity(["", "xyz", "c1cccc1", "CCO"]) == pytest.approx(1 / 4, abs=1e-15)
    assert mol.valid_canonical(["OCC", "xyz", "C(C)O"]) == ["CCO", "CCO"]


def test_uniqueness_counts_different_spellings_of_one_molecule_once_and_reads_the_first_k():
    smiles = ["CCO", "OCC", "C(O)C", ASPIRIN]
    assert mol.uniqueness(smiles) == pytest.approx(2 / 4, abs=1e-15)
    assert mol.uniqueness(smiles, k=2) == pytest.approx(1 / 2, abs=1e-15)
    assert mol.uniqueness(DRUGS, k=5) == 1.0
    with pytest.warns(UserWarning, match="unique@10"):
        assert mol.uniqueness(DRUGS, k=10) == 1.0
    with pytest.raises(DataError, match="invalid"):
        mol.uniqueness(["CCO", "xyz"])


def test_novelty_is_zero_for_a_copy_of_train_and_one_for_a_disjoint_set():
    train = mol.canonical_set(DRUGS)
    assert mol.novelty(DRUGS, train) == 0.0
    # other spellings of the training molecules are not novel either
    assert mol.novelty(["OC(=O)c1ccccc1OC(C)=O", "c1ccc2ccccc2c1"], train) == 0.0
    assert mol.novelty(["CCO", "CCN", "CCO"], train) == 1.0
    # among the distinct valid molecules: 2 of 3 are new; invalid strings and duplicates do not count
    assert mol.novelty(["CCO", "CCN", ASPIRIN, ASPIRIN, "xyz"], train) == pytest.approx(2 / 3, abs=1e-15)


def test_internal_diversity_is_zero_for_one_repeated_molecule_and_known_for_a_pair():
    fps = mol.fingerprints(parsed([ASPIRIN] * 7))
    assert mol.internal_diversity(fps, p=1) == pytest.approx(0.0, abs=1e-15)
    assert mol.internal_diversity(fps, p=2) == pytest.approx(0.0, abs=1e-15)
    t = rdkit_tanimoto(ASPIRIN, PARACETAMOL)
    assert 0.05 < t < 0.95
    pair = mol.fingerprints(parsed([ASPIRIN, PARACETAMOL]))
    # all ordered pairs, self-pairs included: row means (1 + t) / 2 and, for p = 2, sqrt((1 + t^2) / 2)
    assert mol.internal_diversity(pair, p=1) == pytest.approx(1 - (1 + t) / 2, abs=1e-12)
    assert mol.internal_diversity(pair, p=2) == pytest.approx(1 - math.sqrt((1 + t * t) / 2), abs=1e-12)


def test_tanimoto_blocks_give_the_same_diversity_as_one_block(monkeypatch):
    fps = mol.fingerprints(parsed(DRUGS * 3))
    whole = mol.internal_diversity(fps, p=2), mol.nearest_neighbour_similarity(fps[:4], fps)
    monkeypatch.setattr(mol, "TANIMOTO_BLOCK", 2)
    assert (mol.internal_diversity(fps, p=2), mol.nearest_neighbour_similarity(fps[:4], fps)) == pytest.approx(
        whole, abs=1e-12
    )


def test_tanimoto_matrix_equals_the_float64_ratio_of_bit_counts_exactly():
    """The bit counts are computed in float32 for speed: exact, so every similarity is the float64 ratio's."""
    rng = np.random.default_rng(0)
    ref = (rng.random((300, 1024)) < 0.3).astype(np.uint8)  # denser than Morgan bits: larger counts
    gen = (rng.random((200, 1024)) < 0.3).astype(np.uint8)
    ref[0], gen[1] = 0, 0  # empty fingerprints: similarity 1 to another empty one
    ref[1], gen[2] = 1, 1  # all 1024 bits
    both = ref.astype(np.float64) @ gen.astype(np.float64).T  # (300, 200)
    either = ref.sum(1, dtype=np.float64)[:, None] + gen.sum(1, dtype=np.float64)[None, :] - both
    expected = np.where(either > 0, both / np.where(either > 0, either, 1.0), 1.0)
    got = np.concatenate(list(mol._tanimoto_blocks(ref, gen)))
    assert got.dtype == np.float64 and np.array_equal(got, expected)
    assert got[0, 1] == 1.0 and got[1, 2] == 1.0


def test_nearest_neighbour_similarity_is_one_for_a_subset_of_the_reference_and_the_best_match_otherwise():
    reference = mol.fingerprints(parsed(DRUGS))
    assert mol.nearest_neighbour_similarity(reference, reference) == pytest.approx(1.0, abs=1e-15)
    assert mol.nearest_neighbour_similarity(reference, reference[[1, 3]]) == pytest.approx(1.0, abs=1e-15)
    ref = mol.fingerprints(parsed([PARACETAMOL, CAFFEINE]))
    gen = mol.fingerprints(parsed([ASPIRIN]))
    best = max(rdkit_tanimoto(ASPIRIN, PARACETAMOL), rdkit_tanimoto(ASPIRIN, CAFFEINE))
    assert mol.nearest_neighbour_similarity(ref, gen) == pytest.approx(best, abs=1e-12)
    with pytest.raises(DataError, match="no fingerprints"):
        mol.nearest_neighbour_similarity(ref, gen[:0])


def test_cosine_similarity_of_counts():
    assert mol.cosine_similarity(Counter(a=1, b=1), Counter(a=1)) == pytest.approx(1 / math.sqrt(2), abs=1e-15)
    assert mol.cosine_similarity(Counter(a=2, b=4), Counter(a=1, b=2)) == pytest.approx(1.0, abs=1e-15)
    assert mol.cosine_similarity(Counter(a=1), Counter(b=3)) == 0.0
    assert math.isnan(mol.cosine_similarity(Counter(), Counter(a=1)))


def test_fragment_similarity_is_one_for_identical_sets_and_zero_for_disjoint_fragments():
    mols = parsed(DRUGS)
    frags = mol.fragment_counts(mols)
    assert mol.cosine_similarity(frags, mol.fragment_counts(mols)) == pytest.approx(1.0, abs=1e-12)
    # the same molecules twice over: the same proportions
    assert mol.cosine_similarity(frags, mol.fragment_counts(mols * 2)) == pytest.approx(1.0, abs=1e-12)
    # no BRICS bond in either: each molecule is its own fragment, and they share none
    assert mol.fragment_counts(parsed(["CCCC", "CCCC"])) == Counter({"CCCC": 2})
    assert mol.cosine_similarity(mol.fragment_counts(parsed(["CCCC"])), mol.fragment_counts(parsed(["c1ccccc1"]))) == 0
    # aspirin breaks at its ester: more than one fragment, each with its attachment point
    aspirin = mol.fragment_counts(parsed([ASPIRIN]))
    assert len(aspirin) > 1 and all("*" in f for f in aspirin)


def test_scaffold_similarity_counts_bemis_murcko_scaffolds_of_two_rings_or_more():
    assert mol.scaffold(mol.parse("Cc1ccc2ccccc2c1CCO")) == NAPHTHALENE
    assert mol.scaffold(mol.parse(ASPIRIN)) is None  # one ring: not counted (molsets' min_rings=2)
    assert mol.scaffold(mol.parse(ASPIRIN), min_rings=1) == "c1ccccc1"
    same = parsed([NAPHTHALENE, "Cc1ccc2ccccc2c1", BIPHENYL])
    assert mol.cosine_similarity(mol.scaffold_counts(same), mol.scaffold_counts(same)) == pytest.approx(1.0, abs=1e-12)
    apart = mol.cosine_similarity(mol.scaffold_counts(parsed([NAPHTHALENE])), mol.scaffold_counts(parsed([BIPHENYL])))
    assert apart == 0.0
    assert math.isnan(mol.cosine_similarity(mol.scaffold_counts(parsed(["CCO"])), mol.scaffold_counts(same)))


@pytest.mark.parametrize(
    ("smiles", "passes"),
    [
        ("CCO", True),
        (PARACETAMOL, True),
        ("C1CCCCCC1", True),  # a 7-ring is allowed
        ("C1CCCCCCC1", False),  # an 8-ring is not
        ("CC(=O)[O-]", False),  # a charge
        ("CCP", False),  # phosphorus is not an allowed atom
        ("CCI", False),  # nor iodine
        ("CCCl", False),  # MCF4: a CH2 between a carbon and a halogen
        ("N#CC=CC", False),  # MCF1: a Michael acceptor nitrile
        ("S=C1SC(=Cc2ccccc2)C(=O)N1", False),  # PAINS ene_rhod: a 5-benzylidene rhodanine
    ],
)
def test_filters_follow_mcf_pains_atoms_charges_and_rings(smiles, passes):
    assert mol.passes_filters(mol.parse(smiles)) is passes


def test_filter_patterns_are_all_of_molsets_files():
    assert len(mol.filter_patterns()) == 22 + 480  # mcf.csv's rows and wehi_pains.csv's
    assert mol.filters(parsed(["CCO", "CCP", "CCN", "CC(=O)[O-]"])) == pytest.approx(0.5, abs=1e-15)


def test_moses_metrics_of_a_copy_of_the_reference_and_the_training_set():
    generated = DRUGS + ["OC(=O)c1ccccc1OC(C)=O", "xyz"]  # aspirin spelled another way, and an invalid string
    train = mol.canonical_set(DRUGS)
    metrics = mol.moses_metrics(generated, DRUGS, [NAPHTHALENE, BIPHENYL], train, fcd=False)
    assert metrics["valid"] == pytest.approx(6 / 7, abs=1e-15)
    assert metrics["unique@1000"] == metrics["unique@10000"] == pytest.approx(5 / 6, abs=1e-15)
    assert metrics["SNN/Test"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["Novelty"] == 0.0
    # aspirin's fragments twice as often as in the test set: close to, not at, 1
    assert 0.8 < metrics["Frag/Test"] < 1.0 - 1e-6
    assert metrics["Scaf/Test"] == pytest.approx(1.0, abs=1e-12)  # aspirin's one-ring scaffold is not counted
    # caffeine's, naphthalene's and biphenyl's scaffolds once each, against the last two: 2 / (sqrt(3) sqrt(2))
    assert metrics["Scaf/TestSF"] == pytest.approx(math.sqrt(2 / 3), abs=1e-12)
    valid = mol.valid_canonical(generated)
    fps = mol.fingerprints(parsed(valid))
    assert metrics["IntDiv"] == pytest.approx(mol.internal_diversity(fps), abs=1e-15)
    assert metrics["IntDiv2"] == pytest.approx(mol.internal_diversity(fps, p=2), abs=1e-15)
    assert metrics["Filters"] == pytest.approx(mol.filters(parsed(valid)), abs=1e-15)
    assert "FCD/Test" not in metrics
    # precomputed statistics give the same numbers
    stats = mol.reference_statistics(DRUGS, fcd=False)
    again = mol.moses_metrics(generated, stats, None, train, fcd=False)
    assert again == pytest.approx({k: metrics[k] for k in again}, abs=1e-15)
    assert "SNN/TestSF" not in again
    # the training set is compared as given, as molsets does: caffeine as written here is not RDKit's canonical form
    assert mol.moses_metrics(generated, stats, None, DRUGS, fcd=False)["Novelty"] == pytest.approx(1 / 5, abs=1e-15)


def test_moses_metrics_refuse_empty_or_wholly_invalid_input_and_invalid_references():
    with pytest.raises(DataError, match="empty"):
        mol.moses_metrics([], DRUGS, None, None, fcd=False)
    with pytest.raises(DataError, match="none of the 2"):
        mol.moses_metrics(["xyz", ""], DRUGS, None, None, fcd=False)
    with pytest.raises(DataError, match="invalid SMILES"):
        mol.reference_statistics(DRUGS + ["xyz"], fcd=False)
    with pytest.raises(DataError, match="SMILES string"):
        mol.validity([None])


@pytest.mark.slow  # loads ChemNet (about 5 s on a CPU)
def test_frechet_chemnet_distance_is_zero_for_identical_sets_and_positive_for_different_ones():
    same = mol.frechet_chemnet_distance(mol.chemnet_statistics(DRUGS), mol.chemnet_statistics(DRUGS[::-1]))
    assert abs(same) < 1e-4
    chains = ["C" * n for n in range(2, 9)] + ["C" * n + "O" for n in range(2, 9)]
    apart = mol.frechet_chemnet_distance(mol.chemnet_statistics(DRUGS), mol.chemnet_statistics(chains))
    assert apart > 1.0
    metrics = mol.moses_metrics(DRUGS + ["xyz"], DRUGS, None, None)
    assert abs(metrics["FCD/Test"]) < 1e-4
    assert np.isfinite(metrics["FCD/Test"])


def test_property_distances_are_zero_for_identical_sets_and_the_shift_for_a_shifted_one():
    stats = mol.reference_statistics(DRUGS, fcd=False)
    metrics = mol.moses_metrics(DRUGS[::-1], stats, None, None, fcd=False)
    assert [metrics[name] for name in ("logP", "SA", "QED", "weight")] == pytest.approx([0.0] * 4, abs=1e-12)
    ethanol, propanol = mol.properties(parsed(["CCO"])), mol.properties(parsed(["CCCO"]))
    # one molecule each: the Wasserstein-1 distance is the difference of the two values; one CH2 is 14.027 g/mol
    assert mol.property_distance(ethanol["weight"], propanol["weight"]) == pytest.approx(14.027, abs=1e-3)
    assert 0.0 < ethanol["QED"][0] < 1.0 and 1.0 <= ethanol["SA"][0] <= 10.0
