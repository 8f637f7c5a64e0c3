"""Checkpoints as safetensors: tensors in the file, everything else as JSON in its metadata. Never pickle.

Files are written atomically (`vaekit.atomic`: a temporary file in the same folder, then renamed), so an
interrupted write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from vaekit.atomic import atomic_write
from vaekit.errors import RunError

FORMAT = "vaekit-1"


def flatten_tree(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace each tensor in a nested dict/list structure by a reference, collecting tensors by key."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().to("cpu").clone().contiguous()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        # keys may be ints (optimizer state), so keep them typed as [key, value] pairs
        return {"__dict__": [[k, flatten_tree(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [flatten_tree(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at '{prefix}' in a checkpoint")


def unflatten_tree(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of flatten_tree."""
    if isinstance(obj, dict) and "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if isinstance(obj, dict) and "__dict__" in obj:
        return {k: unflatten_tree(v, tensors) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [unflatten_tree(v, tensors) for v in obj]
    return obj


def safetensors_writer(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Callable[[Path], None]:
    """A write function for atomic_write; safetensors' I/O failures become the OSError they wrap (e.g. ENOSPC),
    so that the error names the file and the cause."""

    def write(tmp: Path) -> None:
        try:
            save_file(tensors, str(tmp), metadata=metadata)
        except SafetensorError as exc:
            code = re.search(r"os error (\d+)", str(exc))
            if code is None:
                raise
            raise OSError(int(code[1]), os.strerror(int(code[1]))) from None

    return write


def save_tree(path: str | Path, tree: dict[str, Any]) -> None:
    """Save a nested structure of tensors and JSON values as one safetensors file, atomically."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten_tree(tree, "t", tensors)
    metadata = {"format": FORMAT, "tree": json.dumps(skeleton)}
    atomic_write(path, safetensors_writer(tensors, metadata))


def load_tree(path: str | Path) -> dict[str, Any]:
    """Load what save_tree wrote; a missing, truncated or foreign file raises RunError."""
    path = Path(path)
    skeleton = _skeleton(path)
    try:
        return unflatten_tree(skeleton, load_file(str(path)))
    except (SafetensorError, OSError, ValueError, KeyError) as exc:
        raise _corrupt(path, exc) from None


def load_tree_values(path: str | Path) -> dict[str, Any]:
    """What save_tree wrote with every tensor left out (None in its place), read from the file's header alone:
    counters without loading a tensor. A missing, truncated or foreign file raises RunError, as in `load_tree`."""
    return unflatten_tree(_skeleton(Path(path)), _NoTensors())


def _skeleton(path: Path) -> Any:
    """The JSON structure a checkpoint's header holds, checked (RunError when missing, foreign or corrupt)."""
    if not path.is_file():
        raise RunError(f"checkpoint file '{path}' is missing. Train the run again, or point to a complete run.")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise _corrupt(path, exc) from None
    if metadata.get("format") != FORMAT:
        raise RunError(
            f"'{path}' is not a vaekit {FORMAT} checkpoint (format {metadata.get('format')!r}). "
            "Use a run directory written by this version of vaekit."
        )
    try:
        return json.loads(metadata["tree"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise _corrupt(path, exc) from None


class _NoTensors(dict):
    def __missing__(self, key: str) -> None:
        return None


def _corrupt(path: Path, exc: BaseException) -> RunError:
    return RunError(
        f"checkpoint file '{path}' is corrupt or truncated ({exc}). Delete the run and train it again, "
        "or copy the file again if it came from elsewhere."
    )


def all_finite(tensors_of: torch.nn.Module | dict[str, torch.Tensor]) -> bool:
    """True when every floating-point tensor (a module's parameters and buffers, or a dict's) is finite."""
    items = tensors_of.values() if isinstance(tensors_of, dict) else [*tensors_of.parameters(), *tensors_of.buffers()]
    checks = [torch.isfinite(t).all() for t in items if t.is_floating_point()]
    return bool(torch.stack(checks).all()) if checks else True


def save_weights(path: str | Path, model: torch.nn.Module, metadata: dict[str, str] | None = None) -> None:
    """The model's state dict alone, as plain safetensors (loadable by any safetensors reader).

    Non-finite weights are never written: the file on disk keeps the last finite ones.
    """
    state = {k: v.detach().to("cpu").clone().contiguous() for k, v in model.state_dict().items()}
    if not all_finite(state):
        raise RunError(
            f"refusing to write '{path}': the weights are not finite (training diverged). The previous file is kept."
        )
    meta = {"format": FORMAT, **(metadata or {})}
    atomic_write(path, safetensors_writer(state, meta))


def load_weights(path: str | Path, model: torch.nn.Module) -> None:
    """Load weights saved by save_weights into `model`, checking that every name and shape matches."""
    path = Path(path)
    if not path.is_file():
        raise RunError(f"weights file '{path}' is missing. Train the run again, or point to a complete run.")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunError(
            f"weights file '{path}' is corrupt or truncated ({exc}). Delete the run and train it again."
        ) from None
    if not all_finite(state):
        raise RunError(
            f"weights file '{path}' holds non-finite values (NaN or inf): the training that wrote it diverged. "
            "Resume from an earlier copy or train the run again with a lower train.lr."
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise RunError(
            f"weights file '{path}' does not match the model its config.yaml describes ({first}). "
            "The run directory mixes files of different runs: train it again."
        ) from None
