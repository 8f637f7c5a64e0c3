"""The data contract: DataSpec round trips through spec.json, runs written before it load as images, and a damaged or
mismatched spec.json is refused with the file named."""

import json

import pytest

from vaekit.errors import RunError
from vaekit.run import SPEC, load_run, read_spec
from vaekit.spec import SPECIALS, Column, DataSpec, Vocabulary
from vaekit.workflow.training import train


def test_specs_round_trip_through_json():
    image = DataSpec.image((3, 32, 32), levels=256, preprocessing={"resize": 32, "binarize": "none"})
    table = DataSpec.table(
        (Column("a", "real", mean=1.5, std=0.25), Column("b", "categorical", ("x", "y"), dtype="str")),
        label=Column("c", "categorical", ("no", "yes")),
        preprocessing={"dropped": ["id"]},
    )
    sequence = DataSpec.sequence(Vocabulary((*SPECIALS, "a", "b"), "char"), 12)
    for spec in (image, table, sequence):
        assert DataSpec.from_json(spec.to_json()) == spec
    assert sequence.levels == 6 and sequence.vocabulary.eos_id == 2 and sequence.event_shape == (12,)
    assert image.support == "levels" and image.num_dims == 3 * 32 * 32 and table.event_shape == (2,)


@pytest.fixture
def image_run(tiny_config, tmp_path):
    return train(tiny_config, tmp_path / "run")


def test_only_sequences_read_with_the_smiles_tokenizer_are_molecules():
    tokens = (*SPECIALS, "C", "Cl", "c", "1")
    assert DataSpec.sequence(Vocabulary(tokens, "smiles"), 12).is_smiles
    assert not DataSpec.sequence(Vocabulary(tokens, "char"), 12).is_smiles
    assert not DataSpec.image((1, 4, 4)).is_smiles


def test_a_run_records_its_spec_and_a_run_without_one_loads_as_images(image_run):
    path = image_run.path
    spec = read_spec(path)
    assert spec.kind == "image" and spec.event_shape == (1, 8, 8) and spec.levels == 256
    (path / SPEC).unlink()  # as a run written before spec.json existed
    old = load_run(path)
    assert old.spec.kind == "image" and old.data_shape == (1, 8, 8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a valid data spec"),
        (json.dumps({"kind": "video", "event_shape": [3], "support": "real"}), "invalid kind"),
        (json.dumps({"kind": "image", "event_shape": [1, 4, 4], "support": "real"}), "describes examples of shape"),
        (json.dumps({"kind": "table", "event_shape": [1], "support": "columns", "columns": [{"name": "a"}]}), "valid"),
    ],
)
def test_a_damaged_or_mismatched_spec_is_refused(image_run, text, message):
    (image_run.path / SPEC).write_text(text)
    with pytest.raises(RunError, match=message) as err:
        load_run(image_run.path)
    assert "spec.json" in str(err.value)
