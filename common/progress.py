"""Progress reporting that the core code calls and the UI renders."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called as work advances: ``progress("tracking face", 40, 200)``."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


def silent(stage: str, done: int, total: int) -> None:
    """A progress sink that shows nothing."""
