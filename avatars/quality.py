"""Checks that footage or a photo can make a usable avatar; messages say what failed and where."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from podium.avatars.landmarks import inter_ocular
from podium.avatars.tracking import Tracks, runs
from podium.common.errors import FootageError
from podium.common.media import MediaInfo


@dataclass(frozen=True)
class FootageLimits:
    """Bounds a clip must meet. Durations in seconds, sizes in pixels."""

    min_duration: float = 3.0
    max_duration: float = 600.0
    min_side: int = 240
    max_side: int = 4096
    min_fps: float = 10.0
    max_fps: float = 120.0
    min_face_ratio: float = 0.9
    min_inter_ocular_px: float = 32.0
    min_face_brightness: float = 45.0


def check_probe(info: MediaInfo, name: str, limits: FootageLimits = FootageLimits()) -> None:
    """Reject footage on its headers alone, before anything is decoded."""
    if info.video_codec is None:
        raise FootageError(f"'{name}' has no video stream; give a video of the presenter")
    if info.duration < limits.min_duration:
        raise FootageError(
            f"'{name}' is {info.duration:.2f} s long; footage must be at least "
            f"{limits.min_duration:g} s (10-60 s of the presenter talking works best)")
    if info.duration > limits.max_duration:
        raise FootageError(
            f"'{name}' is {info.duration / 60:.1f} min long; footage must be at most "
            f"{limits.max_duration / 60:g} min: trim it first")
    side_lo, side_hi = min(info.width, info.height), max(info.width, info.height)
    if side_lo < limits.min_side or side_hi > limits.max_side:
        raise FootageError(
            f"'{name}' is {info.width}x{info.height}; the resolution must be between "
            f"{limits.min_side}p and {limits.max_side} px on the long side")
    if not limits.min_fps <= info.fps <= limits.max_fps:
        raise FootageError(
            f"'{name}' runs at {info.fps:g} fps; footage must be {limits.min_fps:g}-{limits.max_fps:g} fps")


def _frame_ranges(mask: np.ndarray, fps: float) -> str:
    parts = []
    for a, b in runs(mask)[:3]:
        frames = f"frame {a}" if a == b else f"frames {a}–{b}"
        parts.append(f"{frames} ({a / fps:.1f}–{(b + 1) / fps:.1f} s)")
    more = len(runs(mask)) - 3
    return ", ".join(parts) + (f" and {more} more stretches" if more > 0 else "")


def check_tracks(tracks: Tracks, name: str, fps: float,
                 limits: FootageLimits = FootageLimits()) -> dict:
    """Reject footage whose face is missing, doubled, too small or too dark.

    Parameters
    ----------
    tracks : Tracks
        Tracking result of every frame.
    fps : float
        Frame rate of ``tracks``, used to print times.

    Returns
    -------
    report : dict
        JSON-ready quality figures, stored in the avatar manifest.
    """
    n = len(tracks.face_count)
    if n == 0:
        raise FootageError(f"'{name}' has no decodable frames")
    two = tracks.face_count >= 2
    if two.mean() > 1 - limits.min_face_ratio:
        raise FootageError(
            f"'{name}' shows more than one face in {_frame_ranges(two, fps)}; "
            "the footage must show only the presenter")
    none = tracks.face_count == 0
    if none.mean() > 1 - limits.min_face_ratio:
        raise FootageError(
            f"no face in {_frame_ranges(none, fps)} of '{name}' ({none.mean():.0%} of the clip); "
            "the presenter's face must be visible in at least "
            f"{limits.min_face_ratio:.0%} of frames")
    present = tracks.present
    iod = float(np.nanmedian(inter_ocular(tracks.points[present])))
    if iod < limits.min_inter_ocular_px:
        raise FootageError(
            f"the face in '{name}' is too small: its eyes are {iod:.0f} px apart, at least "
            f"{limits.min_inter_ocular_px:.0f} px are needed; film closer or at a higher resolution")
    light = float(np.nanmedian(tracks.brightness[present]))
    if light < limits.min_face_brightness:
        raise FootageError(
            f"the face in '{name}' is too dark (brightness {light:.0f}/255, at least "
            f"{limits.min_face_brightness:.0f} needed); add light in front of the presenter")
    return {
        "frames": n,
        "face_ratio": round(float(present.mean()), 4),
        "inter_ocular_px": round(iod, 1),
        "face_brightness": round(light, 1),
    }
