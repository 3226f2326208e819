"""Independent measurements of rendered videos: MediaPipe on the output frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from podium.avatars.landmarks import LOWER_INNER_LIP, UPPER_INNER_LIP, inter_ocular
from podium.avatars.tracking import FaceTracker
from podium.common.media import read_frames


def lip_gaps(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """Inner-lip gap over inter-ocular distance per frame, and whether a face was found.

    Returns
    -------
    gaps : np.ndarray
        float (n_frames,), NaN where no face was found.
    found : np.ndarray
        bool (n_frames,).
    """
    gaps, found = [], []
    with FaceTracker(static=False, max_faces=1) as tracker:
        for frame in read_frames(video):
            faces = tracker.detect(frame)
            if not faces:
                gaps.append(np.nan)
                found.append(False)
                continue
            p = faces[0]
            gaps.append(float((p[LOWER_INNER_LIP, 1] - p[UPPER_INNER_LIP, 1]) / inter_ocular(p)))
            found.append(True)
    return np.array(gaps), np.array(found)


# An openness table written for the tests, independent of lipsync.visemes: how far
# the jaw opens for each kind of sound, by the first letter of the IPA symbol.
_OPEN = {**dict.fromkeys("aɑɐæɒ", 1.0), **dict.fromkeys("ɛɔœʌɜ", 0.7),
         **dict.fromkeys("eoøəɚɘɵɤ", 0.5), **dict.fromkeys("iɪyʏuʊɯɨʉ", 0.3),
         **dict.fromkeys("pbm", 0.0), **dict.fromkeys("fv", 0.05)}


def openness_of(symbol: str) -> float:
    for ch in symbol:
        if ch in _OPEN:
            return _OPEN[ch]
    return 0.2  # other consonants: jaw nearly closed


def expected_openness(phonemes, n_frames: int, fps: float) -> np.ndarray:
    """Per-frame openness from the phone under each frame's centre (0 in silence)."""
    out = np.zeros(n_frames)
    t = (np.arange(n_frames) + 0.5) / fps
    for ph in phonemes:
        sel = (t >= ph.start) & (t < ph.end)
        out[sel] = openness_of(ph.symbol)
    return out
