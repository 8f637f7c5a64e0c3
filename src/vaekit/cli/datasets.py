"""vaekit datasets: the built-in sources and where their files are looked for."""

from __future__ import annotations

import argparse
from pathlib import Path

from vaekit.data import default_data_dir, list_sources
from vaekit.data.sequences import list_text_sources


def add_parser(sub) -> None:
    p = sub.add_parser("datasets", help="list the built-in data sources and where their files are looked for")
    p.add_argument(
        "--data-dir", metavar="DIR", help="the folder to look in (default: $VAEKIT_DATA, else ~/.cache/vaekit)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or default_data_dir()
    print(f"data folder: {data_dir}  (set with --data-dir or $VAEKIT_DATA)\n")
    for s in [*list_sources(data_dir), *list_text_sources(Path(data_dir))]:
        if s.present:
            status = "ready"
        else:
            status = "not downloaded (fetched on first use)" if s.downloadable else "absent (put the files there)"
        where = f"  in {s.directory}" if s.directory else ""
        print(f"{s.name:16s} {s.description}")
        print(f"{'':16s} {status}{where}")
        if s.files and not s.present:
            print(f"{'':16s} files: {', '.join(s.files)}")
    print(
        "\nPaths also work as --data: a .npy/.npz array file, a folder of PNG/JPEG images, a folder of idx files; "
        "text: a .txt file (one example a line), a folder with train.txt and test.txt, or a CSV column (data.column)."
    )
    return 0
