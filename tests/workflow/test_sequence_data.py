"""Sequence data in the workflow: the config's sequence keys, the dispatch of sequence sources, RunData of int64 token
ids with a length-bucketing batcher, and the sequence view's text files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from vaekit.config import check_data_keys, load_config
from vaekit.data.sequences import BucketBatches, SequenceData
from vaekit.errors import ConfigError
from vaekit.registry import LIKELIHOODS
from vaekit.views import view_of
from vaekit.workflow.data import load_configured, load_run_data

LINES = ["the cat sat on the mat", "a dog ran", "the dog sat", "a cat ran far away"] * 30


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "sentences.txt"
    path.write_text("".join(f"{line}\n" for line in LINES))
    return path


def test_the_sequence_keys_are_checked_and_refused_for_other_kinds() -> None:
    cfg = load_config(overrides=["data.kind=sequence", "data.tokenizer=char", "data.max_length=20"]).data
    assert (cfg.tokenizer, cfg.max_length, cfg.bucket) == ("char", 20, True)
    with pytest.raises(ConfigError, match="data.binarize"):
        load_config(overrides=["data.kind=sequence", "data.binarize=static"])
    with pytest.raises(ConfigError, match="tokenizer.json"):
        load_config(overrides=["data.kind=sequence", "data.tokenizer=words"])
    with pytest.raises(ConfigError, match="at least 5"):
        load_config(overrides=["data.kind=sequence", "data.vocab_size=3"])
    with pytest.raises(ConfigError, match="SMILES"):
        load_config(overrides=["data.kind=sequence", "data.tokenizer=smiles", "data.lowercase=true"])
    auto = load_config(overrides=["data.tokenizer=char"]).data  # auto takes every kind's keys until the source is read
    with pytest.raises(ConfigError, match="data.tokenizer"):
        check_data_keys(auto, "image")
    check_data_keys(auto, "sequence")


def test_sequence_sources_are_dispatched_to_the_sequence_reader(text_file: Path, tmp_path: Path) -> None:
    config = load_config(overrides=[f"data.source={text_file}"])  # data.kind=auto: a .txt file is text
    data = load_configured(config.data)
    assert isinstance(data, SequenceData) and data.pixels("train").dtype == torch.int64
    pd.DataFrame({"n": range(len(LINES)), "text": LINES}).to_csv(tmp_path / "t.csv", index=False)
    config = load_config(overrides=[f"data.source={tmp_path / 't.csv'}", "data.column=text"])  # a column: text
    assert isinstance(load_configured(config.data), SequenceData)
    # a later file read with a run's spec: its vocabulary and T, whatever the file's kind looks like
    other = load_configured(config.data, str(text_file), spec=data.spec)
    assert other.spec == data.spec


@pytest.mark.skipif("tokens" not in LIKELIHOODS.schema_names(), reason="the `tokens` likelihood is helper D's")
def test_run_data_of_sequences_are_int64_with_a_bucketing_batcher_and_sequence_defaults(text_file: Path) -> None:
    config = load_config(overrides=[f"data.source={text_file}", "train.batch_size=8"])
    data = load_run_data(config, "cpu")
    assert data.train_x.dtype == torch.int64 and data.split("test")[0].dtype == torch.int64
    assert isinstance(data.batcher, BucketBatches) and data.spec.kind == "sequence"
    assert (config.model.likelihood.type, config.model.network.type) == ("tokens", "recurrent")
    lines = view_of(data.spec).summary_lines(data.data)
    assert any("padding share at batch 8" in line for line in lines)


def test_the_sequence_view_writes_text_one_a_line_or_a_text_column(text_file: Path, tmp_path: Path) -> None:
    config = load_config(overrides=[f"data.source={text_file}"])
    data = load_configured(config.data)
    view = view_of(data.spec)
    x = data.train[:5]
    view.write_examples(data.spec, x, tmp_path / "s.txt")
    written = (tmp_path / "s.txt").read_text().splitlines()
    assert len(written) == 5 and all(line in LINES for line in written)
    view.write_examples(data.spec, x, tmp_path / "s.csv", {"step": [0, 1, 2, 3, 4]})
    frame = pd.read_csv(tmp_path / "s.csv")
    assert list(frame.columns) == ["step", "text"] and frame["text"].tolist() == written
    how = view.write_pairs(data.spec, x, x[:, :4], tmp_path / "p.csv")
    pairs = pd.read_csv(tmp_path / "p.csv")
    assert "reconstruction" in how and pairs["version"].tolist()[:2] == ["input", "reconstruction"]
    assert pairs["text"][0] == written[0] and len(pairs) == 10
    assert "tokens" in view.shape_text(data.spec)
