"""The local web explorer of a run (`vaekit explore`): a Starlette app over run.py, sampling and plotting."""

from vaekit.explore.app import create_app
from vaekit.explore.state import Explorer

__all__ = ["Explorer", "create_app"]
