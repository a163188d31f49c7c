"""The problem record every check returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing hassfest, HACS or a reviewer would reject, in one file."""

    file: str
    """Path relative to the repository root."""
    message: str

    def __str__(self) -> str:
        """Return `file: message`."""
        return f"{self.file}: {self.message}"


type Report = Callable[[str], None]
"""A function that records one problem message for the file being checked."""
