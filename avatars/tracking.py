"""Face tracking with MediaPipe Face Mesh (478 points) and temporal smoothing."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from scipy.signal import savgol_filter

from podium.avatars.landmarks import N_POINTS
from podium.common.media import read_frames

ProgressFn = Callable[[int], None]


@contextlib.contextmanager
def quiet_stderr():
    """Silence the C++ log lines MediaPipe writes straight to file descriptor 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@dataclass(frozen=True)
class Tracks:
    """Landmarks of the one tracked face in every frame.

    Attributes
    ----------
    points : np.ndarray
        float32, shape (n_frames, 478, 2), pixels (x, y); NaN where no face.
    face_count : np.ndarray
        int8, shape (n_frames,): faces MediaPipe saw in each frame (0, 1 or 2+).
    brightness : np.ndarray
        float32, shape (n_frames,): mean luma 0-255 in the face box; NaN without a face.
    frame_size : tuple[int, int]
        (width, height) in pixels.
    """

    points: np.ndarray
    face_count: np.ndarray
    brightness: np.ndarray
    frame_size: tuple[int, int]

    @property
    def present(self) -> np.ndarray:
        """bool, shape (n_frames,): exactly one face was found."""
        return self.face_count == 1


class FaceTracker:
    """Runs Face Mesh over a sequence of RGB frames (video mode: detection + tracking)."""

    def __init__(self, *, static: bool = False, max_faces: int = 2, min_confidence: float = 0.5):
        with quiet_stderr():
            import mediapipe as mp

            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=static,
                max_num_faces=max_faces,
                refine_landmarks=True,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=min_confidence,
            )
        self._warm = False

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._mesh.close()

    def detect(self, frame: np.ndarray) -> list[np.ndarray]:
        """All faces in one RGB frame, each as float32 (478, 2) pixel coordinates."""
        h, w = frame.shape[:2]
        if not self._warm:
            # The first inference prints TFLite start-up notes that mean nothing to users.
            with quiet_stderr():
                result = self._mesh.process(np.ascontiguousarray(frame))
            self._warm = True
        else:
            result = self._mesh.process(np.ascontiguousarray(frame))
        faces = []
        for face in result.multi_face_landmarks or []:
            pts = np.array([(p.x * w, p.y * h) for p in face.landmark], np.float32)
            faces.append(pts[:N_POINTS])
        return faces


def track(frames: Iterable[np.ndarray], *, progress: ProgressFn | None = None,
          keep_frames: list | None = None, static: bool = False) -> Tracks:
    """Track the face through ``frames`` and smooth the landmarks over time.

    Parameters
    ----------
    frames : iterable of np.ndarray
        RGB uint8 frames, shape (height, width, 3).
    progress : callable, optional
        Called with 1 after each frame.
    keep_frames : list, optional
        When given, every frame is appended to it (so the caller decodes once).
    static : bool
        Treat frames as unrelated images (no tracking between frames).
    """
    pts_list, counts, light = [], [], []
    size = (0, 0)
    with FaceTracker(static=static) as tracker:
        for frame in frames:
            if keep_frames is not None:
                keep_frames.append(frame)
            size = (frame.shape[1], frame.shape[0])
            faces = tracker.detect(frame)
            counts.append(min(len(faces), 2))
            if faces:
                # With two faces, keep the larger one so smoothing has a consistent target.
                faces.sort(key=lambda f: -np.ptp(f[:, 0]))
                pts_list.append(faces[0])
                light.append(_face_luma(frame, faces[0]))
            else:
                pts_list.append(np.full((N_POINTS, 2), np.nan, np.float32))
                light.append(np.nan)
            if progress:
                progress(1)
    if not pts_list:
        return Tracks(np.zeros((0, N_POINTS, 2), np.float32), np.zeros(0, np.int8),
                      np.zeros(0, np.float32), size)
    points = smooth(np.stack(pts_list))
    return Tracks(points, np.array(counts, np.int8), np.array(light, np.float32), size)


def track_video(path, *, fps: float, duration: float, max_side: int | None = None,
                progress=None, stage: str = "tracking face") -> Tracks:
    """Decode ``path`` at ``fps`` and :func:`track` it, reporting ``progress(stage, done, total)``.

    Parameters
    ----------
    path : str or Path
        A video file.
    fps : float
        Frames per second to decode at.
    duration : float
        Seconds (from the probe): sets the expected frame count for the progress total.
    max_side : int, optional
        Longest side frames are scaled down to.
    progress : common.progress.Progress, optional
    """
    total = max(int(duration * fps), 1)
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(stage, min(done[0], total), total)

    return track(read_frames(path, fps=fps, max_side=max_side), progress=tick)


def _face_luma(frame: np.ndarray, points: np.ndarray) -> float:
    x0, y0 = np.maximum(points.min(0).astype(int), 0)
    x1, y1 = points.max(0).astype(int)
    patch = frame[y0:y1 + 1:2, x0:x1 + 1:2].astype(np.float32)
    if patch.size == 0:
        return float("nan")
    return float((patch[..., 0] * 0.299 + patch[..., 1] * 0.587 + patch[..., 2] * 0.114).mean())


def smooth(points: np.ndarray, *, window: int = 5, order: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing over time, per run of frames with a face.

    Savitzky-Golay keeps the peaks of fast lip motion (a plosive's release) that a
    moving average would flatten, while removing the 1-4 px frame-to-frame jitter.

    Parameters
    ----------
    points : np.ndarray
        Shape (n_frames, n_points, 2); NaN rows mark frames without a face.
    """
    out = points.copy()
    valid = ~np.isnan(points[:, 0, 0])
    n = len(points)
    i = 0
    while i < n:
        if not valid[i]:
            i += 1
            continue
        j = i
        while j < n and valid[j]:
            j += 1
        if j - i >= window:
            out[i:j] = savgol_filter(points[i:j], window, order, axis=0, mode="interp")
        i = j
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (first, last) index pairs of the True runs in a boolean array."""
    idx = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(idx[::2], idx[1::2])]
