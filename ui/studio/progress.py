"""From the library's ``progress(stage, done, total)`` calls to a progress bar with an ETA,
and a cancel button that stops the work at its next progress call."""

from __future__ import annotations

import threading
import time
from typing import Callable

#: ``sink(fraction, text)``: fraction in [0, 1] (None when unknown), text for the bar.
Sink = Callable[[float | None, str], None]


class Cancelled(Exception):
    """The user pressed Cancel; the work stopped and left nothing half-written."""


class CancelToken:
    """A flag the UI sets and the running job checks at every progress call."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled; nothing was written")


class CancelRegistry:
    """The running job's token of each browser session (one job per session at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, CancelToken] = {}

    def open(self, session: str) -> CancelToken:
        token = CancelToken()
        with self._lock:
            self._tokens[session] = token
        return token

    def close(self, session: str, token: CancelToken) -> None:
        with self._lock:
            if self._tokens.get(session) is token:
                del self._tokens[session]

    def cancel(self, session: str) -> bool:
        """Cancel the session's running job; False when nothing was running."""
        with self._lock:
            token = self._tokens.get(session)
        if token is None:
            return False
        token.cancel()
        return True


def format_seconds(s: float) -> str:
    s = max(0, int(round(s)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class ProgressRelay:
    """A :class:`common.progress.Progress` that feeds a UI sink and honours a cancel token.

    The ETA of a stage is ``elapsed / fraction - elapsed`` since the stage began;
    sink calls are throttled to ``min_interval`` seconds (stage starts and ends
    always go through). Every call first checks the token, so Cancel takes effect
    within one frame (or training step).
    """

    def __init__(self, sink: Sink | None = None, token: CancelToken | None = None, *,
                 min_interval: float = 0.2, clock: Callable[[], float] = time.monotonic):
        self.sink = sink
        self.token = token
        self.min_interval = min_interval
        self.clock = clock
        self.stage: str | None = None
        self.text = ""
        self._start = 0.0
        self._last = -1e9

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.token is not None:
            self.token.check()
        now = self.clock()
        new_stage = stage != self.stage
        if new_stage:
            self.stage, self._start = stage, now
        frac = min(max(done / total, 0.0), 1.0) if total > 0 else None
        finished = frac is not None and frac >= 1.0
        if not (new_stage or finished or now - self._last >= self.min_interval):
            return
        self._last = now
        self.text = self.describe(stage, done, total, now - self._start)
        if self.sink is not None:
            self.sink(frac, self.text)

    @staticmethod
    def describe(stage: str, done: int, total: int, elapsed: float) -> str:
        if total <= 0:
            return f"{stage}…"
        frac = min(max(done / total, 0.0), 1.0)
        if frac >= 1.0:
            return f"{stage}: done in {format_seconds(elapsed)}"
        if frac <= 0.0 or elapsed < 0.5:
            return f"{stage}: {done}/{total}"
        eta = elapsed / frac - elapsed
        return f"{stage}: {done}/{total}, about {format_seconds(eta)} left"
