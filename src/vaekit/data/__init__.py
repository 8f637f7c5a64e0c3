"""Data sets as train/test image tensors: built-in sources (downloaded with checksums) and files or folders.

    from vaekit.data import load_data
    data = load_data("mnist")            # data.train: (60000, 1, 28, 28) float32 in [0, 1]
    data = load_data("images/")          # a folder of PNG/JPEG images, or a .npy/.npz file, or idx files

Environment: VAEKIT_DATA (where built-in data sets are stored), VAEKIT_MIRROR (a base URL that replaces
the official download locations; see `vaekit.data.download`).
"""

from vaekit.data.arrays import binarize
from vaekit.data.binarization import Binarization
from vaekit.data.sources import SOURCES, BuiltinSource, default_data_dir, list_sources, load_data, load_factor_grid
from vaekit.data.types import ImageData, SourceInfo

__all__ = [
    "SOURCES",
    "Binarization",
    "BuiltinSource",
    "ImageData",
    "SourceInfo",
    "binarize",
    "default_data_dir",
    "list_sources",
    "load_data",
    "load_factor_grid",
]
