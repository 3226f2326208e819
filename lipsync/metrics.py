"""Lip-sync quality measured from the outside: MediaPipe on output and reference frames.

Used by ``benchmarks/reconstruction.py``: an avatar trained on the first part of a
clip re-renders the rest from its audio, and these numbers compare the result with
the real frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import cv2
import numpy as np

from podium.avatars.landmarks import LIPS, LOWER_INNER_LIP, UPPER_INNER_LIP, inter_ocular
from podium.avatars.tracking import FaceTracker

#: Points used to align two faces before comparing lips: eye corners and nose.
ALIGN_POINTS = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1)
MOUTH_BOX = (96, 64)  # (width, height) the mouth box is resized to for sharpness


@dataclass(frozen=True)
class FaceFrames:
    """Per-frame landmarks of one video (NaN rows where no face)."""

    points: np.ndarray  # (n, 478, 2) pixels
    mouth_sharpness: np.ndarray  # (n,) variance of the Laplacian of the mouth box


def measure(frames: Iterable[np.ndarray], *, boxes_from: np.ndarray | None = None) -> FaceFrames:
    """Track every frame and measure mouth sharpness.

    Parameters
    ----------
    frames : iterable of np.ndarray
        RGB uint8 frames.
    boxes_from : np.ndarray, optional
        (n, 478, 2) landmarks that define the mouth box per frame (use the real
        frames' landmarks for both videos so the same pixels are compared).
    """
    pts, sharp = [], []
    with FaceTracker(static=False, max_faces=1) as tracker:
        for i, frame in enumerate(frames):
            faces = tracker.detect(frame)
            p = faces[0] if faces else np.full((478, 2), np.nan, np.float32)
            pts.append(p)
            ref = boxes_from[min(i, len(boxes_from) - 1)] if boxes_from is not None else p
            sharp.append(_mouth_sharpness(frame, ref))
    return FaceFrames(np.stack(pts), np.array(sharp))


def _mouth_sharpness(frame: np.ndarray, points: np.ndarray) -> float:
    if np.isnan(points[0, 0]):
        return float("nan")
    lips = points[list(LIPS)]
    c = lips.mean(0)
    half = np.array([np.ptp(lips[:, 0]) * 0.75, np.ptp(lips[:, 0]) * 0.5])
    x0, y0 = np.maximum((c - half).astype(int), 0)
    x1, y1 = (c + half).astype(int)
    box = frame[y0:y1, x0:x1]
    if box.size == 0:
        return float("nan")
    grey = cv2.cvtColor(cv2.resize(box, MOUTH_BOX, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F).var())


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    m, _ = cv2.estimateAffinePartial2D(src.astype(np.float32), dst.astype(np.float32))
    return m


def lip_distance(output: FaceFrames, real: FaceFrames) -> np.ndarray:
    """M-LMD per frame: mean distance of the 40 lip points after aligning the output
    face onto the real one on stable points, in % of the inter-ocular distance."""
    out = []
    for p, q in zip(output.points, real.points):
        if np.isnan(p[0, 0]) or np.isnan(q[0, 0]):
            out.append(np.nan)
            continue
        m = _similarity(p[list(ALIGN_POINTS)], q[list(ALIGN_POINTS)])
        lips = p[list(LIPS)] @ m[:, :2].T + m[:, 2]
        out.append(100.0 * np.linalg.norm(lips - q[list(LIPS)], axis=1).mean() / inter_ocular(q))
    return np.array(out)


def apertures(frames: FaceFrames) -> np.ndarray:
    """Inner-lip gap (points 13-14) over inter-ocular distance, per frame."""
    p = frames.points
    return (p[:, LOWER_INNER_LIP, 1] - p[:, UPPER_INNER_LIP, 1]) / inter_ocular(p)


@dataclass(frozen=True)
class SyncScores:
    """Averages over frames where both videos have a face."""

    m_lmd: float  # % of inter-ocular distance, lower is better
    aperture_corr: float  # Pearson r, higher is better
    sharpness_ratio: float  # output / real, 1.0 is ideal

    @property
    def sharpness_error(self) -> float:
        """How far the sharpness ratio is from 1, as ``|ln ratio|`` (0 is ideal).

        Half and twice as sharp are equally wrong. Averaged over clips, this does not let
        a too-soft clip and a too-crisp one cancel, as an average of ratios does.
        """
        return float(abs(np.log(max(self.sharpness_ratio, 1e-9))))

    def as_row(self) -> list:
        return [round(self.m_lmd, 2), round(self.aperture_corr, 3), round(self.sharpness_ratio, 3)]


def score(output: FaceFrames, real: FaceFrames) -> SyncScores:
    """Compare an output video's face frames with the real frames."""
    n = min(len(output.points), len(real.points))
    output = FaceFrames(output.points[:n], output.mouth_sharpness[:n])
    real = FaceFrames(real.points[:n], real.mouth_sharpness[:n])
    d = lip_distance(output, real)
    a, b = apertures(output), apertures(real)
    ok = ~(np.isnan(a) | np.isnan(b))
    corr = float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 2 and np.std(a[ok]) > 1e-9 else 0.0
    s_ok = ~(np.isnan(output.mouth_sharpness) | np.isnan(real.mouth_sharpness))
    ratio = float(np.mean(output.mouth_sharpness[s_ok]) / max(np.mean(real.mouth_sharpness[s_ok]), 1e-9))
    return SyncScores(float(np.nanmean(d)), corr, ratio)
