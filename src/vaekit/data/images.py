"""A folder of PNG/JPEG images as a data set (read with Pillow).

Layout rules:
- Images are found recursively, in sorted path order; hidden files and folders are skipped, as are files
  that are not .png/.jpg/.jpeg.
- If the folder has a `train/` subfolder, it is the train split and `test/` (if present) the test split;
  anything else in the folder is ignored. Otherwise the whole folder is one split, to be held out from.
- Labels: when every image sits in a subfolder of its split's root (`train/3/a.png`, `cat/a.png`), the
  label is the index of that subfolder's name among all class names, sorted (numerically when all are
  whole numbers, so `0`..`9` get labels 0..9). Otherwise there are no labels.
- Pixels: grayscale ("L") when every image is grayscale, else RGB (alpha dropped); one size for all images, unless
  load-time transforms (`vaekit.data.transforms`) resize them, which happens image by image as they are decoded.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from vaekit.data.transforms import ImageTransforms
from vaekit.data.types import RawData, Split
from vaekit.errors import DataError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
_GRAY_MODES = frozenset({"1", "L", "LA"})
_COLOR_MODES = frozenset({"RGB", "RGBA", "RGBX", "RGBa", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"})
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, Image.DecompressionBombError)


def find_images(root: Path) -> list[Path]:
    """All PNG/JPEG files under `root`, recursively, sorted; hidden files and folders are skipped."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.suffix.lower() in IMAGE_SUFFIXES and not any(p.startswith(".") for p in rel.parts):
            if path.is_file():
                found.append(path)
    return sorted(found)


def _unreadable(path: Path, err: BaseException | str) -> DataError:
    return DataError(f"cannot read the image {path}: {err}. Fix: delete or replace that file (or re-save it as PNG).")


def _header(path: Path) -> tuple[tuple[int, int], str]:
    try:
        with Image.open(path) as im:
            return im.size, im.mode
    except _DECODE_ERRORS as err:
        raise _unreadable(path, err) from err


def _pixels(path: Path, mode: str) -> np.ndarray:
    """The file's pixels in `mode`, after checking the file against its own structure (see `damage`)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise _unreadable(path, err) from err
    why = damage(raw)
    if why is not None:
        raise _unreadable(path, f"it is damaged: {why}")
    try:
        with Image.open(io.BytesIO(raw)) as im:
            return np.asarray(im.convert(mode))  # (H, W) for "L", (H, W, 3) for "RGB"
    except _DECODE_ERRORS as err:
        raise _unreadable(path, err) from err


def damage(raw: bytes) -> str | None:
    """Why an image file fails its own checks, or None: a PNG's chunks must each match their CRC-32 up to the
    closing IEND chunk; a JPEG must end with its end-of-image marker. Both catch a file cut short, which Pillow
    decodes silently when only the last bytes are missing (a PNG's IEND, a JPEG's EOI)."""
    if raw.startswith(_PNG_SIGNATURE):
        return _png_damage(raw)
    if raw.startswith(b"\xff\xd8") and not raw.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "the JPEG does not end with its end-of-image marker (FF D9): the file is cut short"
    return None


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_damage(raw: bytes) -> str | None:
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[pos : pos + 8])  # each chunk: length, type, data, CRC of type+data
        end = pos + 12 + length
        name = kind.decode("latin-1")
        if end > len(raw):
            return f"its {name} chunk at byte {pos} runs {end - len(raw)} bytes past the end: the file is cut short"
        if zlib.crc32(raw[pos + 4 : end - 4]) != struct.unpack(">I", raw[end - 4 : end])[0]:
            return f"the CRC-32 of its {name} chunk at byte {pos} does not match the chunk"
        if kind == b"IEND":
            return None
        pos = end
    return f"the PNG ends after {len(raw)} bytes without its closing IEND chunk: it is cut short"


class ImagePlan(NamedTuple):
    mode: str  # "L" or "RGB": how every image is decoded
    shape: tuple[int, int, int]  # (C, H, W) of every image after the transforms
    gray_made_rgb: int = 0  # grayscale images decoded as RGB (their one channel repeated) beside colour ones
    total: int = 0  # images planned

    def notes(self) -> tuple[str, ...]:
        """What decoding changes that the load summary states."""
        if not self.gray_made_rgb:
            return ()
        return (f"{self.gray_made_rgb} of {self.total} images grayscale, made RGB (their one channel repeated)",)


def plan_images(paths: list[Path], transforms: ImageTransforms) -> ImagePlan:
    """Read every header: one decoding mode for all (grayscale only if all are), and one size after the transforms.

    Without transforms every image must have one size; with them, the transformed sizes must agree.
    """
    grays = 0
    sizes: dict[tuple[int, int], Path] = {}
    for path in paths:
        size, mode = _header(path)
        if mode not in _GRAY_MODES and mode not in _COLOR_MODES:
            raise DataError(
                f"the image {path} has pixel mode {mode!r} (16-bit or float), which vaekit does not read. "
                f"Fix: save it as an 8-bit grayscale or RGB PNG."
            )
        sizes.setdefault(size, path)
        grays += mode in _GRAY_MODES
    gray = grays == len(paths)
    if transforms.is_identity and len(sizes) > 1:
        (s1, p1), (s2, p2) = list(sizes.items())[:2]
        raise DataError(
            f"images differ in size: {p1} is {s1[0]}x{s1[1]} but {p2} is {s2[0]}x{s2[1]} (width x height); "
            "a data set needs one image size. Fix: set data.resize (e.g. data.resize=[64, 64], or "
            "data.resize=64 with data.center_crop=64 to keep the aspect ratio) to resize them as they load."
        )
    c = 1 if gray else 3
    shapes = {transforms.output_shape((c, h, w), f"the image {p}") for (w, h), p in sizes.items()}
    if len(shapes) > 1:
        raise DataError(
            f"after data.resize the images still differ in size ({sorted(shapes)[:2]}, C x H x W): images of "
            "several aspect ratios resized by their shorter side. Fix: add data.center_crop (e.g. the resize "
            "size), or resize to an exact [H, W]."
        )
    return ImagePlan("L" if gray else "RGB", shapes.pop(), 0 if gray else grays, len(paths))


def decode_images(
    paths: list[Path], plan: ImagePlan, transforms: ImageTransforms, chunk: int = 1024
) -> Iterator[np.ndarray]:
    """The images, decoded and transformed one by one, in chunks of up to `chunk`: uint8 (n, C, H, W) each."""
    for start in range(0, len(paths), chunk):
        part = paths[start : start + chunk]
        out = np.empty((len(part), *plan.shape), dtype=np.uint8)
        for i, path in enumerate(part):
            image = _pixels(path, plan.mode)  # (H, W) or (H, W, 3)
            image = image[None] if plan.mode == "L" else image.transpose(2, 0, 1)  # (C, H, W)
            out[i] = transforms.apply(image[None], 255.0)[0]
        yield out


def read_images(paths: list[Path], transforms: ImageTransforms | None = None) -> tuple[np.ndarray, ImagePlan]:
    """Decode image files into uint8 (N, C, H, W), transformed as they are decoded, and the plan they were decoded
    by (see `plan_images`)."""
    transforms = transforms or ImageTransforms()
    plan = plan_images(paths, transforms)
    out = np.empty((len(paths), *plan.shape), dtype=np.uint8)
    start = 0
    for chunk in decode_images(paths, plan, transforms):
        out[start : start + len(chunk)] = chunk
        start += len(chunk)
    return out, plan


def _class_order(names: set[str]) -> list[str]:
    if all(name.isdecimal() for name in names):
        return sorted(names, key=lambda name: (int(name), name))
    return sorted(names)


def _classes(root: Path, paths: list[Path]) -> list[str] | None:
    """The class folder (first path part below `root`) of each image, or None if some image has none."""
    names = [path.relative_to(root).parts for path in paths]
    return [parts[0] for parts in names] if all(len(parts) > 1 for parts in names) else None


class FolderListing(NamedTuple):
    roots: list[Path]  # the split roots: [folder], or [folder/train, folder/test]
    paths: list[list[Path]]  # the images of each root, sorted
    labels: list[np.ndarray | None]  # the class of each image of each root (None: no class folders)


def list_image_folder(folder: Path) -> FolderListing:
    """The images of a folder by split, and their labels (see the module docstring), without decoding any."""
    roots = [folder / "train", folder / "test"] if (folder / "train").is_dir() else [folder]
    roots = [root for root in roots if root.is_dir()]
    lists = [find_images(root) for root in roots]
    for root, paths in zip(roots, lists, strict=True):
        if not paths:
            raise DataError(
                f"the folder {root} holds no PNG or JPEG images (looked recursively; hidden files skipped). "
                f"Fix: point at a folder of .png/.jpg images, a .npy/.npz file, or a folder of idx files."
            )
    classes = [_classes(root, paths) for root, paths in zip(roots, lists, strict=True)]
    labels: list[np.ndarray | None] = [None] * len(roots)
    if all(c is not None for c in classes):
        index = {name: i for i, name in enumerate(_class_order({n for c in classes for n in c}))}
        labels = [np.array([index[name] for name in c], dtype=np.int64) for c in classes]
    return FolderListing(roots, lists, labels)


def read_image_folder(folder: Path, transforms: ImageTransforms | None = None) -> RawData:
    """A folder of images as train (and, with `train/` and `test/` subfolders, test) splits with labels."""
    listing = list_image_folder(folder)
    pixels, plan = read_images([p for paths in listing.paths for p in paths], transforms)  # (N_total, C, H, W)
    splits = []
    start = 0
    for root, paths, y in zip(listing.roots, listing.paths, listing.labels, strict=True):
        splits.append(Split(pixels[start : start + len(paths)], y, str(root)))
        start += len(paths)
    transformed = transforms is not None and not transforms.is_identity
    return RawData(splits[0], splits[1] if len(splits) > 1 else None, transformed, plan.notes())
