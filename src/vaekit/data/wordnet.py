"""The built-in text source `wordnet-glosses`: WordNet 3.0's English definitions, one a line, split 90/5/5.

Built from the official archive (WordNet-3.0.tar.gz, fetched with its sha256 by vaekit.data.download) as
../shared/data/wordnet_glosses was (its SOURCES.md): from dict/data.noun, data.verb, data.adj, data.adv in that order,
each line that does not start with two spaces (the licence header) and holds `|`; the text after the first `|`,
split on `;`, the parts that start with `"` (usage examples) dropped, the rest stripped and joined with `; `,
whitespace collapsed; empty results skipped. Split: `random.Random(20261207).shuffle(range(N))`, then test = the
first N // 20, valid = the next N // 20, train = the rest, each in the shuffled order.

The three files built are checked against the sha256 sums SOURCES.md publishes before any is written, so a user's
copy is byte-identical to the one the project's numbers were measured on; the archive is deleted once they are.
The archive is only read (tarfile's extractfile on the four data files): nothing in it is extracted or executed.
"""

from __future__ import annotations

import hashlib
import random
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from vaekit.atomic import atomic_write
from vaekit.data.download import RemoteFile, ensure_files
from vaekit.errors import DataError

WORDNET_URLS = ("https://wordnetcode.princeton.edu/3.0/",)
# The official archive (11537239 bytes). Its sha256 is the one three independent public build scripts pin for this
# URL; it could not be fetched and checked from this machine (offline). The built files' sums below are the strong
# check: they are the published sums of the files the project measured on.
WORDNET_ARCHIVE = RemoteFile(
    "WordNet-3.0.tar.gz", "sha256:640db279c949a88f61f851dd54ebbb22d003f8b90b85267042ef85a3781d3a52"
)
GLOSS_FILES = {  # ../shared/data/SOURCES.md
    "train.txt": "d4cb89866a18fd58701877df79209f0632eb038b793e1d5645ed0df2cba99433",
    "valid.txt": "c7095d03fe89f3f12131e8861c6a806643784d648036ec2ebda2b10957c18ac4",
    "test.txt": "37e9eff030ed1e492cf43d76c4df88eabe213dd7866386de7c1f1f3fccd88dda",
}
DATA_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
SPLIT_SEED = 20261207


def glosses_of(lines: Iterable[str]) -> Iterator[str]:
    """The glosses of the lines of a WordNet data.* file, usage examples dropped."""
    for line in lines:
        if line.startswith("  ") or "|" not in line:
            continue
        parts = (p.strip() for p in line.split("|", 1)[1].split(";"))
        gloss = " ".join("; ".join(p for p in parts if p and not p.startswith('"')).split())
        if gloss:
            yield gloss


def split_glosses(glosses: Sequence[str]) -> dict[str, list[str]]:
    """{train, valid, test: glosses} by SOURCES.md's seeded shuffle: test and valid N // 20 each."""
    idx = list(range(len(glosses)))
    random.Random(SPLIT_SEED).shuffle(idx)
    k = len(glosses) // 20
    parts = {"test": idx[:k], "valid": idx[k : 2 * k], "train": idx[2 * k :]}
    return {name: [glosses[i] for i in rows] for name, rows in parts.items()}


def read_archive(path: Path) -> list[str]:
    """Every gloss of the four data files in a WordNet tar.gz, in SOURCES.md's order."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {"/".join(m.name.split("/")[-2:]): m for m in archive}  # "dict/data.noun"
            glosses: list[str] = []
            for name in DATA_FILES:
                member = members.get(f"dict/{name}")
                if member is None or not member.isfile():
                    raise DataError(f"{path} has no dict/{name}: it is not the WordNet 3.0 archive.")
                text = archive.extractfile(member).read().decode("utf-8", errors="replace")
                glosses.extend(glosses_of(text.splitlines()))
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise DataError(f"{path} cannot be read as a tar.gz archive ({exc}). Delete it and try again.") from None
    return glosses


def build_glosses(archive: Path, folder: Path, expected: dict[str, str] = GLOSS_FILES) -> dict[str, Path]:
    """Write train.txt, valid.txt and test.txt into `folder` from a WordNet archive, after checking each against
    its sha256 in `expected` (nothing is written when any differs)."""
    splits = split_glosses(read_archive(archive))
    contents = {f"{name}.txt": ("\n".join(lines) + "\n").encode("utf-8") for name, lines in splits.items()}
    wrong = [
        f"{name} ({hashlib.sha256(data).hexdigest()}, expected {expected[name]})"
        for name, data in contents.items()
        if hashlib.sha256(data).hexdigest() != expected[name]
    ]
    if wrong:
        raise DataError(
            f"the glosses built from {archive} differ from the published files: {'; '.join(wrong)}. Nothing was "
            f"written to {folder}. The archive may be another release; put the three files of "
            "wordnet_glosses (train.txt, valid.txt, test.txt) in that folder yourself."
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        atomic_write(folder / name, lambda tmp, data=data: tmp.write_bytes(data))
    return {name: folder / name for name in contents}


def ensure_glosses(
    folder: Path,
    urls: Sequence[str],
    download: bool,
    archive: RemoteFile = WORDNET_ARCHIVE,
    expected: dict[str, str] = GLOSS_FILES,
) -> dict[str, Path]:
    """{train.txt, valid.txt, test.txt: path} in `folder`, built from the archive (downloaded with its checksum
    from `urls` when missing) the first time; the archive is deleted once they are built."""
    paths = {name: folder / name for name in expected}
    if all(p.is_file() for p in paths.values()):
        return paths
    fetched = ensure_files("wordnet-glosses", folder, (archive,), urls, download)[archive.name]
    built = build_glosses(fetched, folder, expected)
    fetched.unlink(missing_ok=True)
    return built
