"""Fetching the files of built-in data sets, with checksums.

A file is streamed into a temporary file in its target folder, hashed on the way, and renamed into place
(os.replace, atomic) only when its checksum matches; on a mismatch or any error the temporary file is
deleted, so a folder never holds a partial or unverified download under the real name.

Mirrors: each built-in source lists its official base URLs, tried in order. Setting the environment
variable VAEKIT_MIRROR to a base URL (http://, https:// or file://) replaces them all: the file <file> of
the source whose local folder is <folder> (e.g. `mnist`, `binarized_mnist`) is fetched from
`$VAEKIT_MIRROR/<folder>/<file>`. So a populated data folder served over HTTP
(`python -m http.server -d ~/.cache/vaekit`) is a mirror. Checksums are never taken from a mirror; to use
other files, replace the source's entry in `vaekit.data.sources.SOURCES` (its `files` carry the checksums).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from vaekit.atomic import temp_file_beside
from vaekit.errors import DataError

MIRROR_ENV = "VAEKIT_MIRROR"
TIMEOUT_S = 30.0  # per blocking network operation, not per file
_CHUNK = 1 << 20
_NETWORK_ERRORS = (OSError, ValueError, http.client.HTTPException)  # URLError, HTTPError, timeouts: OSError


@dataclass(frozen=True)
class RemoteFile:
    """A file a built-in source needs: its name, its checksum as downloaded, other names accepted on disk."""

    name: str  # as downloaded and stored
    checksum: str  # "<hashlib algorithm>:<hex digest>", e.g. "sha256:440fcabf..."
    local_names: tuple[str, ...] = ()  # other names accepted on disk, e.g. the uncompressed file

    @property
    def algorithm(self) -> str:
        return self.checksum.partition(":")[0]

    @property
    def digest(self) -> str:
        return self.checksum.partition(":")[2].lower()

    def describe(self) -> str:
        """'name (algorithm digest)', for messages that tell the user what to fetch."""
        return f"{self.name} ({self.algorithm} {self.digest})"


class DownloadError(DataError):
    """No URL delivered a file (offline, HTTP error, timeout); `failures` holds one 'url: reason' per URL."""

    def __init__(self, file: RemoteFile, failures: list[str]) -> None:
        self.failures = failures
        super().__init__(f"could not download {file.name}: {'; '.join(failures) or 'no URL to try'}.")


class _ChecksumMismatch(Exception):
    def __init__(self, url: str, got: str) -> None:
        self.url, self.got = url, got


def base_urls(folder_name: str, official: Sequence[str]) -> tuple[str, ...]:
    """Base URLs to try for a source kept in `<data_dir>/<folder_name>`: $VAEKIT_MIRROR, else `official`."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return (f"{mirror.rstrip('/')}/{folder_name}",) if mirror else tuple(official)


def local_path(file: RemoteFile, folder: Path) -> Path | None:
    """The first of `file`'s accepted names that exists in `folder`, or None."""
    for name in (file.name, *file.local_names):
        if (folder / name).exists():
            return folder / name
    return None


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return str(err) or type(err).__name__


def _download(url: str, file: RemoteFile, folder: Path, timeout: float) -> Path:
    """Stream `url` into a temp file in `folder`, check it against `file.checksum`, rename it into place."""
    hasher = hashlib.new(file.algorithm)
    fd, tmp = temp_file_beside(folder / file.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=file.name, disable=None) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    hasher.update(chunk)
                    bar.update(len(chunk))
        if hasher.hexdigest() != file.digest:
            raise _ChecksumMismatch(url, hasher.hexdigest())
        target = folder / file.name
        os.replace(tmp, target)
        return target
    finally:
        tmp.unlink(missing_ok=True)


def fetch(file: RemoteFile, folder: Path, urls: Sequence[str], *, timeout: float = TIMEOUT_S) -> Path:
    """Download `file` into `folder` from the first base URL in `urls` that serves it with the right checksum.

    Raises DownloadError when no URL could be read, DataError when every URL that answered served a file
    with the wrong checksum.
    """
    if file.algorithm not in hashlib.algorithms_available:
        raise DataError(f"the checksum of {file.name} names an unknown algorithm: {file.checksum!r}.")
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the data folder {folder} ({err.strerror or err}). "
            f"Fix: set VAEKIT_DATA (or --data-dir) to a folder you can write to."
        ) from err
    try:
        return _fetch_into(file, folder, urls, timeout)
    except BaseException:
        _remove_empty(created)  # a failed look-up leaves no empty folders behind (a mistyped --data-dir)
        raise


def _remove_empty(folders: list[Path]) -> None:
    """Remove `folders`, deepest first, while they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _fetch_into(file: RemoteFile, folder: Path, urls: Sequence[str], timeout: float) -> Path:
    failures: list[str] = []
    mismatches: list[_ChecksumMismatch] = []
    for base in urls:
        url = f"{base.rstrip('/')}/{file.name}"
        try:
            return _download(url, file, folder, timeout)
        except _ChecksumMismatch as err:
            mismatches.append(err)
        except _NETWORK_ERRORS as err:
            failures.append(f"{url}: {_reason(err)}")
    if mismatches:
        got = "; ".join(f"{m.url} gave {m.got}" for m in mismatches)
        raise DataError(
            f"downloaded {file.name} but its {file.algorithm} is wrong ({got}; expected {file.digest}). "
            f"The download was deleted; nothing was written to {folder}. The server may hold a damaged or "
            f"different file. Fix: try again later, set VAEKIT_MIRROR to another mirror, or put a copy of "
            f"{file.name} with that checksum in {folder}."
        )
    raise DownloadError(file, failures)


def missing_files_error(source: str, folder: Path, files: Sequence[RemoteFile], why: str) -> DataError:
    """The DataError for files a built-in source needs but does not have: which, where, and how to fix it."""
    names = "; ".join(f.describe() for f in files)
    if all(local_path(f, folder.parent) for f in files):  # --data-dir named the source's own folder
        why += (
            f". They are in {folder.parent} itself: data sets live in a subfolder named after them, so give its "
            f"parent, --data-dir {folder.parent.parent}"
        )
    return DataError(
        f"the data set '{source}' needs files that are not in {folder}: {names}. {why}. "
        f"Fix: put those files in {folder}, or set VAEKIT_DATA (or --data-dir) to a folder whose "
        f"'{folder.name}' subfolder holds them, or set VAEKIT_MIRROR to a reachable mirror."
    )


def ensure_files(
    source: str, folder: Path, files: Sequence[RemoteFile], urls: Sequence[str], download: bool
) -> dict[str, Path]:
    """Local paths of `files` (by name) in `folder`, downloading the missing ones when `download` is true."""
    found = {f.name: path for f in files if (path := local_path(f, folder)) is not None}
    missing = [f for f in files if f.name not in found]
    if missing and not download:
        raise missing_files_error(source, folder, missing, "Downloads are turned off (download=False)")
    for i, file in enumerate(missing):
        try:
            found[file.name] = fetch(file, folder, urls)
        except DownloadError as err:
            why = f"Downloading them failed: {'; '.join(err.failures) or 'no URL to try'}"
            raise missing_files_error(source, folder, missing[i:], why) from err
    return found
