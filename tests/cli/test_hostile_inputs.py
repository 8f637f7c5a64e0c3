"""A corpus of malformed inputs, as a hostile or unlucky user gives them: data files, configs, run directories and
command arguments. Every one must end with exit status 2, no traceback, a message naming the problem, and nothing
written or changed on disk (the run directory's lock file, which names the process that last held it, aside)."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from vaekit.cli.main import main
from vaekit.lock import LOCK_FILE
from vaekit.run import CONFIG, METRICS, STATE, WEIGHTS
from vaekit.train.checkpoint import load_tree, save_tree

TINY = ["model.latent_dim=2", "model.network.hidden=[8]", "train.epochs=1", "train.progress=false"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny run of 2 epochs on 60 random 8x8 images (the corpus copies it before damaging it)."""
    root = tmp_path_factory.mktemp("trained")
    data = root / "x.npy"
    np.save(data, np.random.default_rng(0).integers(0, 256, (60, 8, 8), dtype=np.uint8))
    args = ["train", "--data", str(data), "--out", str(root / "run"), *TINY, "train.epochs=2"]
    assert main([*args, "train.batch_size=32", "train.num_sample_images=4"]) == 0
    records = [json.loads(line) for line in (root / "run" / METRICS).read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    return root


@dataclass
class Case:
    name: str
    setup: Callable[[Path, Path], list[str]]  # (tmp folder, trained root) -> the command's arguments
    words: tuple[str, ...]  # each must appear in the message (case-insensitive)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK_FILE
    }


# ---- data files: `vaekit train --data FILE` --------------------------------------------------------------------


def npy(array, name="x.npy"):
    def setup(tmp: Path, _) -> list[str]:
        np.save(tmp / name, array)
        return ["train", "--data", str(tmp / name), "--out", str(tmp / "new"), *TINY]

    return setup


def raw_file(name: str, content: bytes):
    def setup(tmp: Path, _) -> list[str]:
        (tmp / name).write_bytes(content)
        return ["train", "--data", str(tmp / name), "--out", str(tmp / "new"), *TINY]

    return setup


def truncated_npy(tmp: Path, _) -> list[str]:
    np.save(tmp / "x.npy", np.zeros((50, 8, 8), np.uint8))
    (tmp / "x.npy").write_bytes((tmp / "x.npy").read_bytes()[:300])
    return ["train", "--data", str(tmp / "x.npy"), "--out", str(tmp / "new"), *TINY]


def npy_claiming_terabytes(tmp: Path, _) -> list[str]:
    with open(tmp / "x.npy", "wb") as f:
        header = {"descr": "|u1", "fortran_order": False, "shape": (10**9, 1000, 1000)}
        np.lib.format.write_array_header_1_0(f, header)
        f.write(bytes(64))
    return ["train", "--data", str(tmp / "x.npy"), "--out", str(tmp / "new"), *TINY]


def npz_claiming_terabytes(tmp: Path, _) -> list[str]:
    with zipfile.ZipFile(tmp / "x.npz", "w") as archive, archive.open("train.npy", "w") as member:
        header = {"descr": "<f4", "fortran_order": False, "shape": (10**9, 1000, 1000)}
        np.lib.format.write_array_header_1_0(member, header)
        member.write(bytes(64))
    return ["train", "--data", str(tmp / "x.npz"), "--out", str(tmp / "new"), *TINY]


def npz(**arrays):
    def setup(tmp: Path, _) -> list[str]:
        np.savez(tmp / "x.npz", **arrays)
        return ["train", "--data", str(tmp / "x.npz"), "--out", str(tmp / "new"), *TINY]

    return setup


def truncated_npz(tmp: Path, _) -> list[str]:
    np.savez(tmp / "x.npz", train=np.zeros((50, 8, 8), np.uint8))
    (tmp / "x.npz").write_bytes((tmp / "x.npz").read_bytes()[:200])
    return ["train", "--data", str(tmp / "x.npz"), "--out", str(tmp / "new"), *TINY]


def image_folder(files: dict[str, bytes | tuple[int, int]]):
    def setup(tmp: Path, _) -> list[str]:
        folder = tmp / "imgs"
        folder.mkdir()
        for name, spec in files.items():
            if isinstance(spec, bytes):
                (folder / name).write_bytes(spec)
            else:
                Image.fromarray(np.zeros(spec[::-1], np.uint8)).save(folder / name)
        return ["train", "--data", str(folder), "--out", str(tmp / "new"), *TINY]

    return setup


def idx_folder_without_train(tmp: Path, _) -> list[str]:
    folder = tmp / "idx"
    folder.mkdir()
    (folder / "a-images-idx3-ubyte").write_bytes(bytes(16))
    (folder / "b-images-idx3-ubyte").write_bytes(bytes(16))
    return ["train", "--data", str(folder), "--out", str(tmp / "new"), *TINY]


U8 = np.zeros((40, 8, 8), np.uint8)
DATA_CASES = [
    Case(
        "missing data file", lambda t, _: ["train", "--data", str(t / "nope.npy"), "--out", str(t / "new")], ("nope",)
    ),
    Case("truncated .npy", truncated_npy, ("x.npy",)),
    Case(".npy header claiming a terabyte", npy_claiming_terabytes, ("x.npy", "header claims")),
    Case(".npz member claiming terabytes", npz_claiming_terabytes, ("x.npz", "memory")),
    Case("empty .npy", raw_file("x.npy", b""), ("x.npy",)),
    Case("text file named .npy", raw_file("x.npy", b"hello, world\n" * 20), ("x.npy", "signature")),
    # an (N, D) array is a table; one whose columns are all constant leaves nothing to model
    Case("table of constant columns", npy(np.zeros((10, 8), np.uint8)), ("x.npy", "no column is left")),
    Case("NaN pixels", npy(np.full((10, 8, 8), np.nan, np.float32)), ("x.npy", "nan")),
    # whole-number floats in [0, 255] are read as 8-bit values (with a warning); others outside [0, 1] are refused
    Case("floats above 1, not 8-bit", npy(np.full((10, 8, 8), 200.5, np.float32)), ("x.npy", "[0, 1]")),
    Case("16-bit integers", npy(np.full((10, 8, 8), 1000, np.int16)), ("x.npy", "8-bit")),
    Case("strings", npy(np.full((10, 8, 8), "a")), ("x.npy", "dtype")),
    Case("complex numbers", npy(np.zeros((10, 8, 8), np.complex64)), ("x.npy", "dtype")),
    Case("pickled objects", npy(np.array([{"a": 1}] * 10, dtype=object)), ("x.npy", "pickle")),
    Case("RGBA images", npy(np.zeros((10, 8, 8, 4), np.uint8)), ("x.npy", "4 channels")),
    Case("no images", npy(np.zeros((0, 8, 8), np.uint8)), ("x.npy",)),
    Case(".npz without train/test", npz(a=U8, b=U8), ("x.npz", "train")),
    Case("truncated .npz", truncated_npz, ("x.npz",)),
    Case(".npz with too few labels", npz(train=U8, train_labels=np.zeros(3, np.int64)), ("x.npz", "label")),
    Case("unknown suffix", raw_file("x.dat", b"1 2 3\n"), ("x.dat", "cannot read")),  # .txt is text (sequences)
    Case("an empty text file", raw_file("x.txt", b""), ("x.txt", "empty")),
    Case("a text file of blank lines", raw_file("x.txt", b"\n  \n"), ("x.txt", "no text")),
    Case("images of mixed sizes", image_folder({"a.png": (8, 8), "b.png": (8, 8), "c.png": (10, 8)}), ("size",)),
    Case("a non-image named .png", image_folder({"a.png": (8, 8), "b.png": b"not a png at all"}), ("b.png",)),
    Case("an empty folder", image_folder({}), ("imgs",)),
    Case("idx files without a train prefix", idx_folder_without_train, ("train-images-idx3-ubyte",)),
]


# ---- configs: `vaekit train ... key=value` and config files -----------------------------------------------------


def override(*values: str):
    def setup(tmp: Path, _) -> list[str]:
        np.save(tmp / "x.npy", U8)
        return ["train", "--data", str(tmp / "x.npy"), "--out", str(tmp / "new"), *TINY, *values]

    return setup


def config_file(content: bytes):
    def setup(tmp: Path, _) -> list[str]:
        np.save(tmp / "x.npy", U8)
        (tmp / "c.yaml").write_bytes(content)
        return ["train", str(tmp / "c.yaml"), "--data", str(tmp / "x.npy"), "--out", str(tmp / "new")]

    return setup


def flags(*args: str):
    def setup(tmp: Path, _) -> list[str]:
        np.save(tmp / "x.npy", U8)
        return ["train", "--data", str(tmp / "x.npy"), "--out", str(tmp / "new"), *args]

    return setup


CONFIG_CASES = [
    Case("unknown key", override("train.lrr=0.1"), ("train.lrr", "train.lr")),
    Case("lr nan", override("train.lr=.nan"), ("train.lr", "finite")),
    Case("lr inf", override("train.lr=.inf"), ("train.lr", "finite")),
    Case("lr negative", override("train.lr=-1"), ("train.lr", "positive")),
    Case("beta nan", override("objective.beta=.nan"), ("objective.beta", "finite")),
    Case("huge seed", override("train.seed=18446744073709551616"), ("train.seed", "2^63")),
    Case("negative split seed", override("data.split_seed=-3"), ("data.split_seed",)),
    Case("adam beta of 1", override("train.adam_betas=[1.0, 0.999]"), ("adam_betas", "[0, 1)")),
    Case("three adam betas", override("train.adam_betas=[0.9, 0.99, 0.9]"), ("adam_betas", "two")),
    Case("negative adam eps", override("train.adam_eps=-1"), ("adam_eps",)),
    Case("latent_dim beyond any size", override("model.latent_dim=1000000000"), ("model.latent_dim", "size")),
    Case(
        "a model beyond memory",
        override("model.latent_dim=60000", "model.network.hidden=[60000, 60000]"),
        ("parameters", "GiB"),
    ),
    Case("negative sample images", override("train.num_sample_images=-1"), ("num_sample_images",)),
    Case("zero epochs", override("train.epochs=0"), ("train.epochs", "at least 1")),
    Case("batch size of text", override("train.batch_size=abc"), ("train.batch_size",)),
    Case("unknown model type", override("model.type=gan"), ("model.type", "gan")),
    Case("unknown objective", override("objective.name=elbow"), ("elbow", "elbo")),
    Case("test fraction above 1", override("data.test_fraction=1.5"), ("data.test_fraction",)),
    Case("unknown prior", override("model.prior.type=gauss"), ("model.prior.type",)),
    Case("unknown preset", flags("--preset", "mnist-gan"), ("mnist-gan",)),
    Case("missing config file", flags(str(Path("/nonexistent/c.yaml"))), ("c.yaml",)),
    Case("config file of bad YAML", config_file(b"train: {lr: [\n"), ("c.yaml",)),
    Case("config file holding a list", config_file(b"- 1\n- 2\n"), ("c.yaml",)),
    Case("config file not UTF-8", config_file(b"train:\n  lr: \xff\xfe\n"), ("c.yaml",)),
    Case("negative --seed", flags("--seed", "-1"), ("--seed", "out of range")),
    Case("--epochs 0", flags("--epochs", "0"), ("--epochs", "out of range")),
]


# ---- run directories: `vaekit sample/evaluate RUN` and `vaekit train --resume` ----------------------------------


def copied_run(tmp: Path, trained: Path) -> Path:
    run = tmp / "run"
    shutil.copytree(trained / "run", run)
    return run


def damaged(damage: Callable[[Path], None], command: str = "sample"):
    """Copy the trained run, damage it, then sample from it (or resume it)."""

    def setup(tmp: Path, trained: Path) -> list[str]:
        run = copied_run(tmp, trained)
        damage(run)
        if command == "resume":
            return ["train", "--out", str(run), "--resume", "--epochs", "4"]
        if command == "evaluate":
            return ["evaluate", str(run), "--iw-samples", "2", "--out", str(tmp / "r.json")]
        return ["sample", str(run), "-n", "4", "--out", str(tmp / "s.png")]

    return setup


def with_shape_metadata(shape: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        tensors = load_file(str(run / WEIGHTS))
        with safe_open(str(run / WEIGHTS), framework="pt") as f:
            meta = dict(f.metadata())
        save_file(tensors, str(run / WEIGHTS), metadata={**meta, "data_shape": shape})

    return damage


def nan_weights(run: Path) -> None:
    tensors = load_file(str(run / WEIGHTS))
    name = next(iter(tensors))
    tensors[name] = tensors[name] * float("nan")
    with safe_open(str(run / WEIGHTS), framework="pt") as f:
        meta = dict(f.metadata())
    save_file(tensors, str(run / WEIGHTS), metadata=meta)


def edit_config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        config = yaml.safe_load((run / CONFIG).read_text())
        change(config)
        (run / CONFIG).write_text(yaml.safe_dump(config))

    return damage


def state_without(key: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        state = load_tree(run / STATE)
        del state[key]
        save_tree(run / STATE, state)

    return damage


def truncate(name: str, keep: int) -> Callable[[Path], None]:
    return lambda run: (run / name).write_bytes((run / name).read_bytes()[:keep])


def remove(name: str) -> Callable[[Path], None]:
    return lambda run: (run / name).unlink()


def write(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda run: (run / name).write_bytes(content)


def wider(config: dict) -> None:
    config["model"]["network"]["hidden"] = [12]


RUN_CASES = [
    Case(
        "missing run", lambda t, _: ["sample", str(t / "nope"), "--out", str(t / "s.png")], ("nope", "does not exist")
    ),
    Case("folder that is not a run", damaged(remove(CONFIG)), ("not a vaekit run",)),
    Case("config.yaml not UTF-8", damaged(write(CONFIG, b"model:\n  type: \xff\n")), ("config.yaml", "utf-8")),
    Case("config.yaml of bad YAML", damaged(write(CONFIG, b"model: [\n")), ("config.yaml",)),
    Case("config.yaml holding a number", damaged(write(CONFIG, b"42\n")), ("config.yaml",)),
    Case("config.yaml with a bad value", damaged(edit_config(lambda c: c["train"].update(lr=-1))), ("train.lr",)),
    Case("truncated weights", damaged(truncate(WEIGHTS, 100)), ("model.safetensors", "corrupt")),
    Case("weights of zero bytes", damaged(write(WEIGHTS, b"")), ("model.safetensors",)),
    Case("NaN weights", damaged(nan_weights), ("model.safetensors", "non-finite")),
    Case("NaN weights, evaluate", damaged(nan_weights, "evaluate"), ("model.safetensors", "non-finite")),
    Case("killed before its first epoch", damaged(remove(WEIGHTS)), ("first epoch", "--resume")),
    Case("negative data shape", damaged(with_shape_metadata("[1, -8, 8]")), ("invalid data shape",)),
    Case("data shape a string", damaged(with_shape_metadata('"big"')), ("invalid data shape",)),
    Case("huge data shape", damaged(with_shape_metadata("[1, 100000000, 8]")), ("invalid data shape",)),
    Case("data shape not JSON", damaged(with_shape_metadata("[1, 8")), ("model.safetensors",)),
    Case("weights of another architecture", damaged(edit_config(wider)), ("model.safetensors",)),
    Case("resume, state of another architecture", damaged(edit_config(wider), "resume"), (STATE, "size")),
    Case("resume, state without its optimizer", damaged(state_without("optimizer"), "resume"), (STATE, "optimizer")),
    Case("resume, state without its epoch", damaged(state_without("epoch"), "resume"), (STATE, "epoch")),
    Case("resume, truncated state", damaged(truncate(STATE, 500), "resume"), (STATE, "corrupt")),
    Case("resume, state missing after epochs", damaged(remove(STATE), "resume"), (STATE, "missing")),
    Case("resume, metrics line not JSON", damaged(write(METRICS, b"{oops\n{}\n"), "resume"), (METRICS, "line 1")),
]


# ---- command arguments ------------------------------------------------------------------------------------------


def on_run(*args: str, data: bool = False):
    """A command on a copy of the trained run; `{run}`, `{tmp}` and `{data}` in the arguments are filled in."""

    def setup(tmp: Path, trained: Path) -> list[str]:
        run = copied_run(tmp, trained)
        values = {"run": str(run), "tmp": str(tmp), "data": str(trained / "x.npy")}
        return [a.format(**values) for a in args]

    return setup


def out_under_a_file(tmp: Path, _) -> list[str]:
    np.save(tmp / "x.npy", U8)
    (tmp / "afile").write_text("x")
    return ["train", "--data", str(tmp / "x.npy"), "--out", str(tmp / "afile" / "run"), *TINY]


def out_is_a_file(tmp: Path, _) -> list[str]:
    np.save(tmp / "x.npy", U8)
    (tmp / "afile").write_text("x")
    return ["train", "--data", str(tmp / "x.npy"), "--out", str(tmp / "afile"), *TINY]


def out_not_a_run(tmp: Path, _) -> list[str]:
    np.save(tmp / "x.npy", U8)
    (tmp / "photos").mkdir()
    (tmp / "photos" / "me.jpg").write_bytes(b"precious")
    return ["train", "--data", str(tmp / "x.npy"), "--out", str(tmp / "photos"), *TINY]


ARG_CASES = [
    Case("sample -n 0", on_run("sample", "{run}", "-n", "0", "--out", "{tmp}/s.png"), ("-n", "out of range")),
    Case("sample -n -5", on_run("sample", "{run}", "-n", "-5", "--out", "{tmp}/s.png"), ("-n",)),
    Case("sample -n 10^12", on_run("sample", "{run}", "-n", "10" + "0" * 12, "--out", "{tmp}/s.png"), ("-n",)),
    Case("sample --seed -1", on_run("sample", "{run}", "--seed", "-1", "--out", "{tmp}/s.png"), ("--seed",)),
    Case("sample --seed text", on_run("sample", "{run}", "--seed", "x", "--out", "{tmp}/s.png"), ("--seed",)),
    Case("sample to .jpg", on_run("sample", "{run}", "--out", "{tmp}/s.jpg"), (".png",)),
    Case("sample into a missing folder", on_run("sample", "{run}", "--out", "{tmp}/no/s.png"), ("does not exist",)),
    Case(
        "sample --label without labels", on_run("sample", "{run}", "--label", "3", "--out", "{tmp}/s.png"), ("label",)
    ),
    Case(
        "reconstruct -n 0",
        on_run("reconstruct", "{run}", "--data", "{data}", "-n", "0", "--out", "{tmp}/r.png"),
        ("-n",),
    ),
    Case("evaluate --iw-samples 0", on_run("evaluate", "{run}", "--iw-samples", "0"), ("--iw-samples",)),
    Case("evaluate --limit 0", on_run("evaluate", "{run}", "--limit", "0"), ("--limit",)),
    Case("evaluate --out .txt", on_run("evaluate", "{run}", "--out", "{tmp}/r.txt"), (".json",)),
    Case(
        "interpolate beyond the split",
        on_run("interpolate", "{run}", "--data", "{data}", "--pair", "0", "999", "--out", "{tmp}/i.png"),
        ("999", "out of range"),
    ),
    Case(
        "interpolate --steps 1",
        on_run("interpolate", "{run}", "--data", "{data}", "--pair", "0", "1", "--steps", "1", "--out", "{tmp}/i.png"),
        ("--steps",),
    ),
    Case("encode to .txt", on_run("encode", "{run}", "--data", "{data}", "--out", "{tmp}/z.txt"), (".npy",)),
    Case("resume --epochs -1", on_run("train", "--out", "{run}", "--resume", "--epochs", "-1"), ("--epochs",)),
    Case("resume to fewer epochs", on_run("train", "--out", "{run}", "--resume", "--epochs", "1"), ("already", "2")),
    Case("resume to the same epochs", on_run("train", "--out", "{run}", "--resume", "--epochs", "2"), ("already",)),
    Case("resume without --out", on_run("train", "--resume"), ("--out",)),
    Case("resume with overrides", on_run("train", "--out", "{run}", "--resume", "train.lr=1"), ("own config",)),
    Case("train over a run", on_run("train", "--data", "{data}", "--out", "{run}", *TINY), ("--force",)),
    Case("--out under a file", out_under_a_file, ("afile", "file")),
    Case("--out is a file", out_is_a_file, ("afile", "file")),
    Case("--out a folder that is not a run", out_not_a_run, ("photos", "not a vaekit run")),
]

CASES = DATA_CASES + CONFIG_CASES + RUN_CASES + ARG_CASES


def test_the_corpus_is_large():
    assert len(CASES) >= 50 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_input_exits_2_names_the_problem_and_writes_nothing(case, tmp_path, trained, capsys):
    # The shared run and its data too: each case works on a copy, and a case that damaged the original would
    # change what every later case sees. Checked in each case, so the check holds whatever order the cases run in.
    shared = snapshot(trained)
    argv = case.setup(tmp_path, trained)
    before = snapshot(tmp_path)
    code = main(argv)  # an exception here would be a traceback for the user
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.strip()
    for word in case.words:
        assert word.lower() in err.lower(), f"{word!r} not in: {err}"
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "new").exists()
    assert snapshot(trained) == shared
