"""Helpers shared by the subcommands: the help formatter, output paths, loading a run's data, generators, the
line each command prints about what it wrote."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vaekit.config import MAX_SEED
from vaekit.errors import RunError, VaekitError
from vaekit.nn.tokens import Decoding
from vaekit.run import Run, read_spec
from vaekit.views import VIEWS, View, view_of
from vaekit.workflow.data import load_configured

MAX_COUNT = 100_000  # images drawn, decoded or written by one command: beyond this, memory runs out first


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's "(default: X)" after each option's help, where X says something.

    Not for an option whose default is None or empty (its help says what happens when it is absent), nor for a
    flag (absent means off).
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default == [] or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help states defaults (HelpFormatter); add_subparsers makes its subparsers alike."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def int_in(lo: int, hi: int):
    """An argparse type: an integer from lo to hi (argparse reports anything else and exits with status 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range: give an integer from {lo} to {hi}")
        return value

    return parse


SEED = int_in(0, MAX_SEED)
COUNT = int_in(1, MAX_COUNT)


def output_path(path: str, suffixes: tuple[str, ...]) -> Path:
    """Check an --out path before any work: a known suffix and an existing parent folder."""
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise VaekitError(f"--out '{path}' must end in {' or '.join(suffixes)}.")
    if not out.parent.is_dir():
        raise VaekitError(f"the folder of --out '{path}' does not exist. Create '{out.parent}' first.")
    if out.is_dir():
        raise VaekitError(f"--out '{path}' is a folder. Give a file name ending in {' or '.join(suffixes)}.")
    return out


def run_view(run_dir: str) -> View:
    """The view of a run's data (what its examples are written as), read from its spec before the run is loaded; the
    image view where `run_dir` is no run (loading it then says why)."""
    try:
        return view_of(read_spec(Path(run_dir)))
    except (RunError, OSError):
        return VIEWS["image"]


def add_data_args(parser: argparse.ArgumentParser, what: str, split_default: str = "test") -> None:
    """--data, --data-dir and --split: `what` the command reads; absent, the run's own data."""
    parser.add_argument(
        "--data",
        metavar="SOURCE",
        help=f"{what}: a built-in source name or a path, see `vaekit datasets` (default: the run's own data, "
        "data.source in RUN_DIR/config.yaml)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where built-in data sets are looked for (default: the run's data.data_dir, else $VAEKIT_DATA, else "
        "~/.cache/vaekit)",
    )
    parser.add_argument("--split", choices=("train", "test"), default=split_default, help="which split of the data")


def data_name(run: Run, args: argparse.Namespace) -> str:
    """How messages name the data a command read: --data as given, or the run's own source."""
    return f"--data '{args.data}'" if args.data else f"the run's data '{run.config.data.source}'"


def load_split(run: Run, args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The chosen split of --data (the run's own data when absent), split as the run's config splits it, checked
    against the run's shape, and its labels (None where the data have none, or the model takes none)."""
    data = load_configured(run.config.data, args.data, args.data_dir, spec=run.spec)  # the run's split, transforms
    x = data.pixels(args.split)  # (N, C, H, W) float32 in [0, 1], or a table's rows (N, D)
    y = data.train_labels if args.split == "train" else data.test_labels
    if "labels" not in run.capabilities:
        y = None
    elif y is None:
        raise VaekitError(
            f"run '{run.path}' is conditioned on class labels, but {data_name(run, args)} has none. Give labelled "
            "data (the run's own source has them)."
        )
    return run.check_data(x, source=data_name(run, args)), y


MAX_BEAM_WIDTH = 64


def temperature(text: str) -> float:
    """An argparse type: a sampling temperature, a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{value} is out of range: give a number >= 0 (1: the model's own draws)")
    return value


def add_decoding_args(parser: argparse.ArgumentParser) -> None:
    """--decode and --beam-width: how a text run reads sentences off p(x|z) (refused by runs on other data)."""
    parser.add_argument(
        "--decode",
        choices=("greedy", "beam"),
        help="a text run: how each sentence is read off p(x|z), the most probable token at each step (greedy) or "
        "beam search (default: greedy)",
    )
    parser.add_argument(
        "--beam-width",
        type=int_in(1, MAX_BEAM_WIDTH),
        metavar="W",
        help="beams kept by --decode beam (default: 4)",
    )


def decoding_of(run: Run, args: argparse.Namespace) -> Decoding | None:
    """The decoding that --decode/--beam-width (or sample's --temperature) choose; None where none is given (the
    kind's own: images' means, a table's draws, a sentence's greedy decoding). Refused by a run not on text."""
    temp = getattr(args, "temperature", None)
    method, width = getattr(args, "decode", None), getattr(args, "beam_width", None)
    if width is not None and method != "beam":
        raise VaekitError("--beam-width applies to --decode beam: add --decode beam, or leave --beam-width out.")
    decoding = None
    if temp is not None:
        decoding = Decoding("sample", temperature=temp)
    elif method is not None:
        decoding = Decoding(method, (width or 4) if method == "beam" else 1)
    run.check_decoding(decoding)
    return decoding


def generator(run: Run, seed: int) -> torch.Generator:
    return torch.Generator(device=run.device).manual_seed(seed)


def example_text(run: Run) -> str:
    """One example's shape in words: `CxHxW` of an image, `D columns` of a table's row."""
    return view_of(run.spec).shape_text(run.spec)


def wrote(what: str, out: Path) -> None:
    """The one line a command prints on success: what it wrote, and where."""
    print(f"wrote {what} to {out}")
