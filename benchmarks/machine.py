"""What every benchmark records about the machine it ran on (imported by the scripts beside it)."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path
from typing import Any

from vaekit.evaluate.disentanglement import usable_cores  # the one vaekit sizes its thread pools by

__all__ = ["cpu_model", "machine_info", "usable_cores"]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info(threads: int | None = None) -> dict[str, Any]:
    """CPU, cores, torch and its threads (default: torch's current setting), the GPU if any, and the date."""
    import torch

    return {
        "cpu": cpu_model(),
        "cores_usable": usable_cores(),
        "cores_total": os.cpu_count(),
        "torch_version": torch.__version__,
        "torch_threads": threads or torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
