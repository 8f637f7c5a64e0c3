"""The explorer of a SMILES run over HTTP: every string it returns (a decoding, a test or typed molecule as the model
reads it, its reconstruction, its nearest training molecules, each point of a homotopy and its two ends) is marked
valid exactly when RDKit parses it, and a valid one comes with an SVG drawing of that molecule (an invalid one with
none); drawings are bounded by the requests' own bounds. A text run on words gets no molecule fields at all."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pytest
import torch
from rdkit import Chem
from starlette.testclient import TestClient

from vaekit.explore import create_app
from vaekit.explore.app import MAX_STEPS
from vaekit.explore.sequences import MAX_NEIGHBOURS
from vaekit.report.views import load_split
from vaekit.run import load_run
from vaekit.views.sequences import decode_texts

SVG_URI = "data:image/svg+xml;base64,"
# typed SMILES, all of tokens in the tiny run's vocabulary (tests/tiny_moses.py): molecules and strings RDKit refuses
VALID = ["CCO", "c1ccccc1", "CC(C)O"]
INVALID = ["C1CC", "c1ccccc", "CC(", "CC)C"]  # an unclosed ring, a broken aromatic ring, unbalanced parentheses
MOLECULE_KEYS = {"valid", "drawing", "molecules", "end_molecules", "seen_molecule"}


@pytest.fixture(scope="module")
def run(runs):
    return load_run(runs("smiles"))


@pytest.fixture(scope="module")
def client(run):
    return TestClient(create_app(run))


def is_molecule(smiles: str) -> bool:
    """RDKit's verdict, asked directly (MOSES counts the empty string invalid)."""
    return bool(smiles) and Chem.MolFromSmiles(smiles) is not None


def assert_drawn(smiles: str, fields: dict) -> None:
    """`fields` marks `smiles` valid as RDKit does; a valid one's drawing is an SVG of each of its atoms."""
    assert fields["valid"] is is_molecule(smiles), smiles
    if not fields["valid"]:
        assert fields["drawing"] is None, smiles
        return
    assert fields["drawing"].startswith(SVG_URI), smiles
    svg = base64.b64decode(fields["drawing"][len(SVG_URI) :], validate=True)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    atoms = {int(i) for i in re.findall(rb"\batom-(\d+)", svg)}  # RDKit tags each atom's strokes with its index
    assert atoms == set(range(Chem.MolFromSmiles(smiles).GetNumAtoms())), smiles


def test_info_says_the_run_is_on_molecules(client):
    info = client.get("/api/info").json()
    assert info["molecules"] is True and info["example_word"] == "molecule" and info["tokenizer"] == "smiles"


@pytest.mark.parametrize("decoding", [{}, {"decoding": "beam", "beam_width": 3}])
def test_a_decoded_z_is_drawn_when_valid(client, run, decoding):
    for z in ([0.0, 0.0, 0.0, 0.0], [2.5, -1.0, 0.5, 3.0], [-40.0, 40.0, -40.0, 40.0]):
        out = client.post("/api/decode", json={"z": z, **decoding}).json()
        px_z = run.likelihood_at(torch.tensor([z]))
        rows = px_z.beam_search(3) if decoding else px_z.greedy()
        assert out["text"] == decode_texts(run.spec, rows)[0]
        assert_drawn(out["text"], out)


def test_a_test_molecule_and_its_reconstruction_are_drawn(client, run):
    x = load_split(run, "test").x
    for index in range(x.shape[0]):
        out = client.post("/api/test", json={"index": index}).json()
        assert out["text"] == decode_texts(run.spec, x[index : index + 1])[0]
        assert_drawn(out["text"], out)
        assert_drawn(out["decoded"]["text"], out["decoded"])


@pytest.mark.parametrize("smiles", VALID + INVALID)
def test_a_typed_molecule_its_reconstruction_and_neighbours_are_marked_as_rdkit_says(client, smiles):
    out = client.post("/api/text", json={"text": smiles, "neighbours": 4}).json()
    assert out["seen"] == smiles and out["seen_molecule"]["valid"] is (smiles in VALID)
    assert_drawn(out["seen"], out["seen_molecule"])
    assert_drawn(out["reconstruction"]["text"], out["reconstruction"])
    assert len(out["neighbours"]) == 4
    for neighbour in out["neighbours"]:
        assert_drawn(neighbour["text"], neighbour)
        assert neighbour["valid"]  # the training molecules are all valid


def test_a_homotopy_draws_each_point_and_both_ends(client):
    out = client.post("/api/interpolate_text", json={"a": "CCO", "b": "C1CC", "steps": 6}).json()
    assert len(out["texts"]) == len(out["molecules"]) == 6 and out["ends"] == ["CCO", "C1CC"]
    assert [m["valid"] for m in out["end_molecules"]] == [True, False]
    for text, fields in zip(out["texts"] + out["ends"], out["molecules"] + out["end_molecules"], strict=True):
        assert_drawn(text, fields)
    out = client.post("/api/interpolate", json={"a": 0, "b": 3, "steps": 4}).json()  # between test molecules
    assert len(out["texts"]) == len(out["molecules"]) == 4
    for text, fields in zip(out["texts"], out["molecules"], strict=True):
        assert_drawn(text, fields)


def test_drawings_are_bounded_by_the_requests_bounds(client):
    """One drawing per returned string: at most 2 + MAX_NEIGHBOURS for a typed molecule, MAX_STEPS + 2 for a path."""
    response = client.post("/api/text", json={"text": "CCO", "neighbours": MAX_NEIGHBOURS})
    out = response.json()
    valid = [out["seen_molecule"]["valid"], out["reconstruction"]["valid"], *(n["valid"] for n in out["neighbours"])]
    assert len(valid) == 2 + MAX_NEIGHBOURS and response.text.count(SVG_URI) == sum(valid)
    response = client.post("/api/interpolate_text", json={"a": "CCO", "b": "c1ccccc1", "steps": MAX_STEPS})
    out = response.json()
    valid = [m["valid"] for m in out["molecules"] + out["end_molecules"]]
    assert len(valid) == MAX_STEPS + 2 and response.text.count(SVG_URI) == sum(valid)
    assert len(response.content) < 2_000_000  # small drawings: a few kB each
    response = client.post("/api/text", json={"text": "CCO", "neighbours": MAX_NEIGHBOURS + 1})
    assert response.status_code == 400


def keys_of(value) -> set[str]:
    """Every key of every object nested in a JSON value."""
    if isinstance(value, dict):
        return set(value).union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


def test_a_text_run_on_words_has_no_molecule_fields(runs):
    client = TestClient(create_app(load_run(runs("text"))))
    info = client.get("/api/info").json()
    assert info["molecules"] is False and info["example_word"] == "sequence"
    outs = [
        client.post("/api/decode", json={"z": [0.5, -1.0, 2.0]}).json(),
        client.post("/api/test", json={"index": 0}).json(),
        client.post("/api/text", json={"text": "the cat sat", "neighbours": 3}).json(),
        client.post("/api/interpolate_text", json={"a": "the cat sat", "b": "a dog ran", "steps": 3}).json(),
        client.post("/api/interpolate", json={"a": 0, "b": 1, "steps": 3}).json(),
    ]
    assert all("error" not in out for out in outs)
    assert [keys_of(out) & MOLECULE_KEYS for out in outs] == [set()] * len(outs)
    assert all(SVG_URI not in str(out) for out in outs)
