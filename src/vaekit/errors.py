"""Errors a user can fix. The CLI prints their message (no traceback) and exits with status 2."""

from __future__ import annotations


class VaekitError(Exception):
    """A problem with the user's input: the message names what was wrong and what to do about it."""


class ConfigError(VaekitError):
    """An unknown key, a value of the wrong type, an unknown preset or registry name."""


class DataError(VaekitError):
    """A missing, corrupt or malformed data file, or data of the wrong shape or values."""


class RunError(VaekitError):
    """A run directory that is missing, incomplete, corrupt, or would be overwritten."""
