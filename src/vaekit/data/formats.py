"""Readers for the byte formats of built-in data sets: idx (MNIST), .amat (binarized MNIST), CIFAR-10 binary.

Each reader checks the structure it relies on (magic bytes, declared sizes, row lengths) and turns any
problem into a DataError that names the file; none of them unpickles anything.
"""

from __future__ import annotations

import gzip
import math
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np

from vaekit.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST_BATCH = "test_batch.bin"
CIFAR_SHAPE = (3, 32, 32)
_CIFAR_RECORD = 1 + math.prod(CIFAR_SHAPE)  # one label byte, then 1024 R, 1024 G, 1024 B bytes


def corrupt(path: Path | str, problem: str) -> DataError:
    """The DataError for a damaged file: what is wrong with it, and to replace it."""
    return DataError(
        f"{path} is damaged or not the expected file: {problem}. "
        f"Fix: delete it and download it again (built-in data sets are fetched again on the next run), "
        f"or re-create it if you made it."
    )


def read_bytes(path: Path) -> bytes:
    """The contents of `path`, gunzipped when it is gzip (judged by its first bytes, not its name)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}. Fix: check that it is a readable file.") from err
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise corrupt(path, f"it is not a complete gzip file ({err})") from err


def read_idx(path: Path) -> np.ndarray:
    """An idx file (optionally gzipped) as an array of the shape and dtype its header declares."""
    data = read_bytes(path)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_DTYPES or data[3] == 0:
        raise corrupt(path, f"it does not start with an idx header (first bytes {data[:4].hex() or 'none'})")
    ndim, header = data[3], 4 + 4 * data[3]
    if len(data) < header:
        raise corrupt(path, f"it ends inside the idx header ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        raise corrupt(
            path,
            f"its header declares shape {dims}, which takes {expected} bytes, but it has {len(data)} bytes",
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _line_of(buf: np.ndarray, pos: int) -> int:
    return int(np.count_nonzero(buf[:pos] == ord("\n"))) + 1


def _amat_fixed_layout(buf: np.ndarray, row_length: int) -> np.ndarray | None:
    """Rows exactly as distributed ('0 1 ... 1' + newline, 2 bytes per value) as bool (N, D), else None."""
    if len(buf) == 0 or len(buf) % (2 * row_length):
        return None
    rows = buf.reshape(-1, 2 * row_length)  # (N, 2D): value, separator, value, ..., newline
    if not ((rows[:, 1:-1:2] == ord(" ")).all() and (rows[:, -1] == ord("\n")).all()):
        return None
    values = rows[:, ::2] - np.uint8(ord("0"))  # (N, D); bytes below '0' wrap around to large values
    return values.astype(bool) if (values <= 1).all() else None


def read_amat(path: Path, row_length: int | None = None) -> np.ndarray:
    """A text .amat file of binary pixels ('0'/'1' separated by spaces, one image per line) -> bool (N, D).

    Vectorized over the raw bytes; files laid out as distributed take a faster path (50000 rows: ~0.5 s).
    """
    buf = np.frombuffer(read_bytes(path), dtype=np.uint8)
    if row_length is not None and (fixed := _amat_fixed_layout(buf, row_length)) is not None:
        return fixed
    is_digit = (buf - np.uint8(ord("0"))) <= 1
    is_space = (buf == ord(" ")) | (buf == ord("\n")) | (buf == ord("\t")) | (buf == ord("\r"))
    bad = ~(is_digit | is_space)
    if bad.any():
        pos = int(bad.argmax())
        raise corrupt(
            path,
            f"line {_line_of(buf, pos)} holds the byte {bytes(buf[pos : pos + 1])!r}, "
            f"but a binary .amat file holds only 0 and 1 separated by spaces",
        )
    joined = is_digit[1:] & is_digit[:-1]
    if joined.any():
        pos = int(joined.argmax())
        raise corrupt(path, f"line {_line_of(buf, pos)} holds a number other than 0 or 1")
    ends = np.flatnonzero(buf == ord("\n"))  # the last byte of each line
    if len(buf) and buf[-1] != ord("\n"):
        ends = np.append(ends, len(buf) - 1)
    digits_so_far = np.cumsum(is_digit, dtype=np.int32 if len(buf) < 2**31 else np.int64)
    counts = np.diff(digits_so_far[ends], prepend=0)  # values per line
    lines = np.flatnonzero(counts)  # blank lines hold no image
    if len(lines) == 0:
        raise corrupt(path, "it holds no rows of pixels")
    expected = row_length if row_length is not None else int(counts[lines[0]])
    wrong = lines[counts[lines] != expected]
    if len(wrong):
        line = int(wrong[0])
        raise corrupt(
            path,
            f"line {line + 1} holds {int(counts[line])} values but every row must hold {expected} "
            f"(the file is probably truncated)",
        )
    return (buf[is_digit] == ord("1")).reshape(len(lines), expected)  # (N, D)


def _cifar_batches_from_tar(path: Path, wanted: set[str]) -> dict[str, bytes]:
    batches = {}
    try:
        with tarfile.open(path, mode="r|*") as tar:  # streamed: one pass through the gzip
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in wanted:
                    batches[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise corrupt(path, f"it is not a complete tar archive ({err})") from err
    return batches


def _cifar_batch(data: bytes, origin: str) -> tuple[np.ndarray, np.ndarray]:
    if len(data) == 0 or len(data) % _CIFAR_RECORD:
        raise corrupt(origin, f"{len(data)} bytes is not a whole number of {_CIFAR_RECORD}-byte CIFAR records")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0]
    if labels.max() > 9:
        raise corrupt(origin, f"it holds the label {int(labels.max())}, but CIFAR-10 labels are 0-9")
    return records[:, 1:].reshape(-1, *CIFAR_SHAPE), labels  # (N, 3, 32, 32), (N,)


def read_cifar_binary(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CIFAR-10's binary version, as its tar(.gz) or extracted folder -> (x_train, y_train, x_test, y_test).

    Images are uint8 (N, 3, 32, 32); the train split is data_batch_1..5 in order, the test split test_batch.
    """
    wanted = {*CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH}
    if path.is_dir():
        batches = {name: read_bytes(path / name) for name in sorted(wanted) if (path / name).is_file()}
    else:
        batches = _cifar_batches_from_tar(path, wanted)
    missing = sorted(wanted - batches.keys())
    if missing:
        raise corrupt(path, f"it lacks {', '.join(missing)}")
    train = [_cifar_batch(batches[name], f"{path}[{name}]") for name in CIFAR_TRAIN_BATCHES]
    x_test, y_test = _cifar_batch(batches[CIFAR_TEST_BATCH], f"{path}[{CIFAR_TEST_BATCH}]")
    x_train = np.concatenate([x for x, _ in train])  # (50000, 3, 32, 32)
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test
