"""What a watermark detector reports: one shape for the picture and the sound mark."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Detection score (standard normal when there is no mark) at which a mark counts as found.
#: One-sided false-alarm probability at 5.5: 1.9e-8 per file and mark.
FOUND_SCORE = 5.5


def false_alarm(score: float) -> float:
    """Probability that an unmarked input scores at least ``score`` (one-sided normal tail)."""
    return 0.5 * math.erfc(score / math.sqrt(2.0))


@dataclass(frozen=True)
class MarkReading:
    """One detector's verdict on one file.

    Attributes
    ----------
    found : bool
        ``score >= FOUND_SCORE``.
    score : float
        Detection statistic, standard normal (mean 0, sd 1) on unmarked input.
    render_id : int or None
        The 32-bit render id, when the mark was found and its CRC matches.
    analysed_s : float
        Seconds of the input the detector integrated over.
    """

    found: bool
    score: float
    render_id: int | None
    analysed_s: float

    @property
    def false_alarm(self) -> float:
        """Chance that an unmarked input would score this high."""
        return false_alarm(self.score)

    @property
    def confidence(self) -> float:
        """1 - :attr:`false_alarm`, clipped to [0, 1]."""
        return max(0.0, min(1.0, 1.0 - self.false_alarm))

    @classmethod
    def from_score(cls, score: float, render_id: int | None, analysed_s: float) -> MarkReading:
        found = bool(score >= FOUND_SCORE)
        return cls(found=found, score=float(score), render_id=render_id if found else None,
                   analysed_s=float(analysed_s))
