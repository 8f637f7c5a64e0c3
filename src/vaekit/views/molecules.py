"""Molecules drawn with RDKit: the one place that turns SMILES strings into pictures, for the report (a PNG grid of
the valid ones, each captioned by its SMILES) and the explorer (one SVG per string, with whether it is valid).

A SMILES run is a sequence run whose vocabulary's tokenizer is `smiles` (DataSpec.is_smiles). A string is valid
when RDKit parses and sanitizes it (vaekit.evaluate.molecules.parse, as MOSES counts validity); an invalid one has no
drawing.
"""

from __future__ import annotations

import base64
import io

GRID_COLUMNS = 5  # molecules per row of the report's grid
CELL = (220, 170)  # pixels of each molecule in the report's grid
LARGE = (300, 220)  # pixels of one SVG drawing: a decoded or typed molecule
SMALL = (180, 135)  # a neighbour or a point of an interpolation
MIN_FONT = 10  # pixels: the smallest atom label of an SVG drawing (RDKit's default, 6, is hard to read at SMALL)


def molecule_grid_uri(smiles: list[str]) -> str | None:
    """A PNG data: URI of the valid molecules among `smiles` drawn in a grid (GRID_COLUMNS a row, CELL pixels each),
    each captioned by its SMILES; None when none is valid."""
    from rdkit.Chem import Draw

    from vaekit.evaluate.molecules import parse  # imported here, as RDKit: only SMILES runs need them

    pairs = [(m, s) for s, m in ((s, parse(s)) for s in smiles) if m is not None]
    if not pairs:
        return None
    mols, legends = zip(*pairs, strict=True)
    picture = Draw.MolsToGridImage(list(mols), molsPerRow=GRID_COLUMNS, subImgSize=CELL, legends=list(legends))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")  # a PIL image (RDKit returns one unless in a notebook)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def molecule_fields(smiles: str, size: tuple[int, int] = LARGE) -> dict:
    """What the explorer adds to a SMILES string it returns: {"valid": whether RDKit parses it, "drawing": its SVG as
    a data:image/svg+xml;base64 URI, None when invalid}. The page shows a drawing as an <img>, never as markup."""
    from vaekit.evaluate.molecules import parse

    mol = parse(smiles)
    svg = None if mol is None else _svg(mol, size)
    # encoded as the SVG's header declares (iso-8859-1); a character beyond it would become a character reference
    drawing = None if svg is None else _SVG_URI + base64.b64encode(svg.encode("latin-1", "xmlcharrefreplace")).decode()
    return {"valid": mol is not None, "drawing": drawing}


_SVG_URI = "data:image/svg+xml;base64,"


def _svg(mol, size: tuple[int, int]) -> str | None:
    """The SVG text of an RDKit molecule drawn at `size` pixels on a transparent background (None: not drawable)."""
    from rdkit.Chem.Draw import rdMolDraw2D

    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    options = drawer.drawOptions()
    options.clearBackground = False
    options.minFontSize = MIN_FONT  # a large molecule in a small drawing keeps readable atom labels
    try:
        rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    except (RuntimeError, ValueError):  # a sanitized molecule that RDKit still cannot lay out: shown as text
        return None
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


__all__ = ["molecule_fields", "molecule_grid_uri"]
