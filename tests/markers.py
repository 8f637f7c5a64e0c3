"""Skip marks that the tests share (one place for each condition)."""

import pytest

from vaekit.train.compile import compile_unavailable

needs_compiler = pytest.mark.skipif(bool(compile_unavailable()), reason="torch.compile cannot run on this machine")
