"""A terminal progress bar with an ETA (no dependency)."""

from __future__ import annotations

import sys
import time


class TerminalProgress:
    """Render ``progress(stage, done, total)`` calls on stderr.

    On a terminal it redraws one line per stage; when stderr is not a terminal
    (CI logs, pipes) it prints one line when a stage starts and one when it ends.
    """

    def __init__(self, stream=None, *, width: int = 28, min_interval: float = 0.1):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self.min_interval = min_interval
        self._stage: str | None = None
        self._start = 0.0
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self._stage:
            self._finish_line()
            self._stage, self._start, self._last = stage, now, 0.0
            if not self.tty:
                print(f"{stage}...", file=self.stream, flush=True)
        finished = total > 0 and done >= total
        if self.tty and (finished or now - self._last >= self.min_interval):
            self._last = now
            frac = done / total if total else 0.0
            filled = int(frac * self.width)
            elapsed = now - self._start
            eta = elapsed / frac - elapsed if frac > 0 else 0.0
            tail = f"ETA {eta:4.0f}s" if not finished else f"{elapsed:5.1f}s"
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{stage:<26} [{bar}] {frac:4.0%} {tail}")
            self.stream.flush()

    def _finish_line(self) -> None:
        if self._stage is not None and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def close(self) -> None:
        self._finish_line()
        self._stage = None
