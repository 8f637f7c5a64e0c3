"""Image transforms applied once, at load: grayscale, resize, center crop, invert (config `data.*`).

They run in this order, image by image, on the stored values (uint8 stays uint8, float32 stays float32), so a
data set is transformed before anything is held whole in memory, and a run's own file and a user's new file go
through the same steps (`vaekit encode --data new.npz` applies the run's transforms).

    grayscale     RGB -> luma, L = 0.299 R + 0.587 G + 0.114 B (ITU-R 601-2, as Pillow's convert("L"))
    resize        S: the shorter side becomes S, the aspect ratio kept (as torchvision's Resize(S));
                  [H, W]: exactly H x W. Pillow's bilinear filter, which widens its support when shrinking
                  (an antialiased resize); never a hand-written interpolation.
    center_crop   S or [H, W]: the central H x W window (after the resize)
    invert        v -> max - v: dark ink on white paper becomes bright ink on black, as MNIST has it
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vaekit.errors import DataError

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _pair(value: int | list[int] | tuple[int, ...] | None, key: str) -> tuple[int, ...] | None:
    if value is None or value == []:
        return None
    sizes = (value,) if isinstance(value, int) else tuple(value)
    if len(sizes) not in (1, 2) or any(not isinstance(s, int) or isinstance(s, bool) or s < 1 for s in sizes):
        raise DataError(f"data.{key} must be a positive side S or a pair [H, W], got {value!r}.")
    return sizes


@dataclass(frozen=True)
class ImageTransforms:
    resize: tuple[int, ...] | None = None  # (S,): shorter side; (H, W): exact
    center_crop: tuple[int, ...] | None = None  # (S,) square, or (H, W)
    grayscale: bool = False
    invert: bool = False

    @classmethod
    def of(cls, resize=None, center_crop=None, grayscale: bool = False, invert: bool = False) -> ImageTransforms:
        return cls(_pair(resize, "resize"), _pair(center_crop, "center_crop"), bool(grayscale), bool(invert))

    @property
    def is_identity(self) -> bool:
        return self == ImageTransforms()

    @property
    def changes_values(self) -> bool:
        """Whether new pixel values can appear (a binary image resized or made gray is binary no more)."""
        return self.resize is not None or self.grayscale

    def describe(self) -> str:
        parts = []
        if self.grayscale:
            parts.append("grayscale")
        if self.resize is not None:
            side = " (shorter side)" if len(self.resize) == 1 else ""
            parts.append(f"resize {'x'.join(map(str, self.resize))}{side}")
        if self.center_crop is not None:
            h, w = self._crop_size()
            parts.append(f"center crop {h}x{w}")
        if self.invert:
            parts.append("invert")
        return ", ".join(parts) or "none"

    def _crop_size(self) -> tuple[int, int]:
        assert self.center_crop is not None
        return (self.center_crop[0], self.center_crop[-1])

    def _resized(self, h: int, w: int) -> tuple[int, int]:
        if self.resize is None:
            return h, w
        if len(self.resize) == 2:
            return self.resize[0], self.resize[1]
        s = self.resize[0]
        return (s, max(1, round(w * s / h))) if h <= w else (max(1, round(h * s / w)), s)

    def output_shape(self, shape: tuple[int, int, int], origin: str = "the images") -> tuple[int, int, int]:
        """The (C, H, W) that images of `shape` have after the transforms; DataError if a crop does not fit."""
        c, h, w = shape
        c = 1 if self.grayscale else c
        h, w = self._resized(h, w)
        if self.center_crop is not None:
            ch, cw = self._crop_size()
            if ch > h or cw > w:
                raise DataError(
                    f"data.center_crop {ch}x{cw} is larger than {origin} ({h}x{w} after any resize). "
                    "Fix: crop to at most the image size, or resize to a larger size first."
                )
            h, w = ch, cw
        return c, h, w

    def apply(self, x: np.ndarray, max_value: float) -> np.ndarray:
        """Images (N, C, H, W) -> transformed (N, C', H', W'), same dtype; values lie in [0, max_value]."""
        if self.is_identity:
            return x
        c, h, w = self.output_shape(x.shape[1:])  # type: ignore[arg-type]
        if self.grayscale and x.shape[1] == 3:
            luma = np.tensordot(_LUMA, x.astype(np.float32), axes=([0], [1]))[:, None]  # (N, 1, H, W)
            x = _cast(luma, x.dtype)
        rh, rw = self._resized(*x.shape[2:])
        if (rh, rw) != x.shape[2:]:
            x = np.stack([_resize(image, rh, rw) for image in x])  # (N, C, rh, rw)
        if self.center_crop is not None:
            top, left = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
            x = x[:, :, top : top + h, left : left + w]
        if self.invert:
            x = x.dtype.type(max_value) - x
        return np.ascontiguousarray(x, dtype=x.dtype)


def _cast(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.rint(x).astype(dtype) if np.dtype(dtype).kind in "ui" else x.astype(dtype)


def _resize(image: np.ndarray, h: int, w: int) -> np.ndarray:
    """One image (C, H, W) resized with Pillow's bilinear filter: uint8 as an 8-bit image, floats per channel."""
    size = (w, h)  # Pillow takes (width, height)
    bilinear = Image.Resampling.BILINEAR
    if image.dtype == np.uint8:
        mode = "RGB" if image.shape[0] == 3 else "L"
        pil = Image.fromarray(image.transpose(1, 2, 0) if mode == "RGB" else image[0], mode)
        out = np.asarray(pil.resize(size, bilinear))
        return out.transpose(2, 0, 1) if mode == "RGB" else out[None]
    channels = [np.asarray(Image.fromarray(ch.astype(np.float32), "F").resize(size, bilinear)) for ch in image]
    return np.stack(channels).astype(image.dtype)
