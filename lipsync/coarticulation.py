"""From timed phonemes to a per-frame mouth trajectory.

A dominance model (Cohen & Massaro): every phone pulls the mouth towards its
viseme with a weight that decays away from the phone's centre; the mouth is the
weighted mean. On top of that three hard rules that viewers notice at once:
bilabials close the lips fully, silences rest closed and perfectly still, and
rounding starts before the rounded sound (anticipation). Averaging over each
frame's duration removes sub-frame flicker ("chattering") on fast speech.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from podium.lipsync.visemes import SILENCE, Viseme, visemes_for

#: Internal sampling rate of the trajectory, Hz.
RATE = 400


@dataclass(frozen=True)
class CoarticulationConfig:
    """Timing constants, seconds unless noted."""

    decay: float = 0.035  # dominance half-width around a phone's centre
    anticipation: float = 0.12  # extra lead of rounding before a rounded sound
    rest_margin: float = 0.10  # after this far into a silence the mouth is at rest
    min_rest_gap: float = 0.18  # silences at least this long rest fully
    closure_fraction: float = 0.6  # middle part of a bilabial held shut
    # Lips stay shut 60-120 ms for a p/b/m in running speech; one frame shut at 25 fps
    # flickers past unseen (and a tracker smoothing over frames misses it too).
    min_closure: float = 0.08


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame mouth targets.

    Attributes
    ----------
    openness, spread : np.ndarray
        float32 (n_frames,), see :class:`~lipsync.visemes.Viseme`.
    fps : float
        Frames per second.
    """

    openness: np.ndarray
    spread: np.ndarray
    fps: float

    def __repr__(self) -> str:
        return f"MouthTrack({len(self.openness)} frames at {self.fps:g} fps)"


def _segments(phones: Sequence, duration: float) -> list[tuple[Viseme, float, float]]:
    segs = []
    cursor = 0.0
    for ph in phones:
        start, end = max(ph.start, 0.0), min(ph.end, duration)
        if end <= start:
            continue
        if start > cursor + 1e-3:
            segs.append((SILENCE, cursor, start))
        vis = visemes_for(ph.symbol)
        if vis:
            step = (end - start) / len(vis)
            for k, v in enumerate(vis):
                segs.append((v, start + k * step, start + (k + 1) * step))
        cursor = max(cursor, end)
    if duration > cursor + 1e-3:
        segs.append((SILENCE, cursor, duration))
    return segs


def mouth_track(phones: Sequence, duration: float, *, fps: float,
                config: CoarticulationConfig = CoarticulationConfig()) -> MouthTrack:
    """Per-frame openness and spread for timed phones.

    Parameters
    ----------
    phones : sequence of Phone
        Objects with ``symbol`` (IPA), ``start`` and ``end`` (seconds); gaps are silence.
    duration : float
        Length of the audio, seconds.
    fps : float
        Output frame rate.

    Returns
    -------
    MouthTrack
        ``ceil(duration * fps)`` frames.
    """
    n_frames = max(int(np.ceil(duration * fps - 1e-6)), 1)
    n = int(np.ceil(n_frames / fps * RATE)) + 1
    t = np.arange(n) / RATE
    segs = _segments(phones, duration)
    num_o, num_s, den_o, den_s = (np.zeros(n) for _ in range(4))
    for vis, a, b in segs:
        c = (a + b) / 2
        half = max((b - a) / 2, 0.01)
        width = config.decay + half
        d = np.abs(t - c)
        dom = vis.dominance * np.exp(-((np.maximum(d - half, 0)) / config.decay) ** 1.5)
        dom[d <= half] = vis.dominance
        if vis is SILENCE:
            # Silence only pulls inside itself; it must not damp the speech around it.
            dom = np.where((t >= a) & (t <= b), dom, dom * 0.05)
        num_o += dom * vis.openness
        den_o += dom
        # Rounding reaches further ahead of the sound than it lingers after it.
        lead = config.anticipation if vis.spread < -0.3 else 0.0
        ds = np.where(t < c, np.maximum(c - t - half - lead, 0), np.maximum(t - c - half, 0))
        dom_s = vis.dominance * np.exp(-(ds / (width * 0.8)) ** 1.5)
        if vis is SILENCE:
            dom_s = np.where((t >= a) & (t <= b), dom_s, dom_s * 0.05)
        num_s += dom_s * vis.spread
        den_s += dom_s
    openness = num_o / np.maximum(den_o, 1e-9)
    spread = num_s / np.maximum(den_s, 1e-9)
    # Vowels shorter than ~120 ms do not reach their full opening.
    for vis, a, b in segs:
        if vis.openness > 0.3 and vis is not SILENCE:
            sel = (t >= a) & (t < b)
            openness[sel] *= np.clip(0.8 + (b - a) / 0.12 * 0.2, 0.8, 1.0)
    # Per-frame box average: what a camera with a 1/fps shutter would see.
    frame_of = np.minimum((t * fps).astype(int), n_frames - 1)
    counts = np.bincount(frame_of, minlength=n_frames)
    fo = np.bincount(frame_of, openness, minlength=n_frames) / np.maximum(counts, 1)
    fs = np.bincount(frame_of, spread, minlength=n_frames) / np.maximum(counts, 1)
    frame_t = (np.arange(n_frames) + 0.5) / fps
    for vis, a, b in segs:
        if vis.closure:
            c, half = (a + b) / 2, max((b - a) * config.closure_fraction / 2, config.min_closure / 2, 0.5 / fps)
            hold = np.abs(frame_t - c) <= half
            if not hold.any():
                hold[min(int(c * fps), n_frames - 1)] = True
            fo[hold] = 0.0
        elif vis is SILENCE and b - a >= config.min_rest_gap:
            # Closed and still through pauses: exact rest values, no residual motion.
            rest = (frame_t >= a + config.rest_margin) & (frame_t <= b - config.rest_margin * 0.6)
            if a <= 0.0:
                rest |= frame_t <= b - config.rest_margin * 0.6
            if b >= duration - 1e-3:
                rest |= frame_t >= a + config.rest_margin
            fo[rest] = 0.0
            fs[rest] = 0.0
    fo[fo < 0.03] = 0.0
    return MouthTrack(fo.astype(np.float32), fs.astype(np.float32), float(fps))
