"""The pre-flight report of an avatar source: what the user sees right after an upload.

It uses the same probe and the same limits as avatar creation
(:func:`avatars.quality.check_probe`, :class:`avatars.quality.FootageLimits`) on a
quick sample of the clip (at most :data:`MAX_SAMPLES` frames), so a clip the report
calls fine is one creation accepts, and a blocking problem is shown before the
slow part starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from podium.avatars.create import MAX_SIDE
from podium.avatars.landmarks import inter_ocular
from podium.avatars.photo import load_portrait
from podium.avatars.quality import FootageLimits, check_probe
from podium.avatars.tracking import runs, track, track_video
from podium.common.errors import FootageError
from podium.common.progress import Progress, silent
from podium.ui.studio.uploads import check_footage_or_photo

MAX_SAMPLES = 120
SAMPLE_FPS = 5.0


@dataclass(frozen=True)
class QualityReport:
    """Figures and verdict for one uploaded clip or photo.

    ``problems`` block creation (the library would refuse the file); ``warnings``
    are worth knowing but creation goes ahead. Durations in seconds, sizes in pixels,
    ``face_ratio`` in [0, 1] of the sampled frames.
    """

    file: str
    kind: str  # "footage" or "photo"
    width: int
    height: int
    duration: float = 0.0
    fps: float = 0.0
    has_audio: bool = False
    sampled_frames: int = 0
    face_ratio: float | None = None
    inter_ocular_px: float | None = None
    brightness: float | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def markdown(self) -> str:
        rows = [("File", f"`{self.file}` ({self.kind})")]
        if self.face_ratio is not None:
            what = f"{self.sampled_frames} sampled frames" if self.kind == "footage" else "the photo"
            rows.append(("Face found", f"{self.face_ratio:.0%} of {what}"))
        if self.kind == "footage":
            rows.append(("Length", f"{self.duration:.1f} s"))
            rows.append(("Resolution", f"{self.width}×{self.height} at {self.fps:.3g} fps"))
            rows.append(("Sound", "yes" if self.has_audio else "none"))
        else:
            rows.append(("Resolution", f"{self.width}×{self.height}"))
        if self.inter_ocular_px is not None:
            rows.append(("Eyes apart", f"{self.inter_ocular_px:.0f} px"))
        if self.brightness is not None:
            rows.append(("Face brightness", f"{self.brightness:.0f} / 255"))
        lines = ["| Quality check | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
        # Plain symbols (not emoji): they render with any font.
        if self.problems:
            lines.append("**✖ This file cannot make an avatar:**")
            lines += [f"- {p}" for p in self.problems]
        else:
            lines.append("**✔ Ready: this file can make an avatar.**")
        if self.warnings:
            lines.append("")
            lines += [f"- ⚠️ {w}" for w in self.warnings]
        return "\n".join(lines)


def _spans(mask: np.ndarray, fps: float) -> str:
    parts = [f"{a / fps:.1f}–{(b + 1) / fps:.1f} s" for a, b in runs(mask)[:3]]
    more = len(runs(mask)) - 3
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def _face_figures(counts, points, light, limits: FootageLimits, fps: float | None,
                  problems: list, warnings: list) -> tuple[float, float | None, float | None]:
    n = len(counts)
    present = counts == 1
    ratio = float(present.mean()) if n else 0.0
    where = (lambda m: f" (at {_spans(m, fps)})") if fps else (lambda m: "")
    two, none = counts >= 2, counts == 0
    if n and two.mean() > 1 - limits.min_face_ratio:
        problems.append(f"more than one face is visible{where(two)}; only the presenter may be in view")
    elif n and none.mean() > 1 - limits.min_face_ratio:
        problems.append(f"no face in {none.mean():.0%} of the frames{where(none)}; the face must be "
                        f"visible in at least {limits.min_face_ratio:.0%} of them")
    elif n and ratio < 0.98:
        warnings.append(f"the face is lost in {1 - ratio:.0%} of the frames{where(~present)}; "
                        "those moments are skipped")
    if not present.any():
        if not problems:
            problems.append("no face found; film the presenter facing the camera")
        return ratio, None, None
    iod = float(np.nanmedian(inter_ocular(points[present])))
    bright = float(np.nanmedian(light[present]))
    if iod < limits.min_inter_ocular_px:
        problems.append(f"the face is too small (eyes {iod:.0f} px apart, at least "
                        f"{limits.min_inter_ocular_px:.0f} px needed); film closer")
    elif iod < 2.5 * limits.min_inter_ocular_px:
        warnings.append(f"the face is small (eyes {iod:.0f} px apart); a closer shot gives sharper lips")
    if bright < limits.min_face_brightness:
        problems.append(f"the face is too dark (brightness {bright:.0f}/255, at least "
                        f"{limits.min_face_brightness:.0f} needed); add light in front of the presenter")
    elif bright < limits.min_face_brightness + 25:
        warnings.append(f"the face is dim (brightness {bright:.0f}/255); more light helps")
    return ratio, iod, bright


def footage_report(path: str | Path, *, progress: Progress = silent,
                   limits: FootageLimits = FootageLimits()) -> QualityReport:
    """Probe a clip and track the face on a sample of its frames.

    Raises
    ------
    FootageError
        The file is not a video at all (a text file, a broken upload).
    """
    path, info, kind = check_footage_or_photo(path)
    if kind == "photo":
        return photo_report(path, progress=progress, limits=limits)
    problems: list[str] = []
    warnings: list[str] = []
    try:
        check_probe(info, path.name, limits)
    except FootageError as exc:
        problems.append(str(exc))
    if info.duration < 10 and not problems:
        warnings.append(f"the clip is {info.duration:.1f} s long; 10–60 s of the presenter talking "
                        "gives more real mouth shapes")
    if 0 < min(info.width, info.height) < 480 and not problems:
        warnings.append(f"low resolution ({info.width}×{info.height}); lips will look soft in HD output")
    base = dict(file=path.name, kind="footage", width=info.width, height=info.height,
                duration=info.duration, fps=info.fps, has_audio=info.has_audio)
    if problems:  # headers already rule it out: no need to decode
        return QualityReport(**base, problems=tuple(problems), warnings=tuple(warnings))
    fps = min(SAMPLE_FPS, MAX_SAMPLES / max(info.duration, 0.1))
    tracks = track_video(path, fps=fps, duration=info.duration, max_side=MAX_SIDE, progress=progress,
                         stage="checking the face")
    ratio, iod, bright = _face_figures(tracks.face_count, tracks.points, tracks.brightness, limits,
                                       fps, problems, warnings)
    return QualityReport(**base, sampled_frames=len(tracks.face_count), face_ratio=ratio,
                         inter_ocular_px=iod, brightness=bright, problems=tuple(problems),
                         warnings=tuple(warnings))


def photo_report(path: str | Path, *, progress: Progress = silent,
                 limits: FootageLimits = FootageLimits()) -> QualityReport:
    """Check a portrait: one face, large enough, lit well enough."""
    path = Path(path)
    progress("checking the face", 0, 1)
    img = load_portrait(path)  # raises FootageError for an unreadable or tiny image
    tracks = track([img], static=True)
    problems: list[str] = []
    warnings = ["a photo avatar gets a synthetic head sway and painted mouth openings; "
                "footage of the presenter talking looks more natural"]
    ratio, iod, bright = _face_figures(tracks.face_count, tracks.points, tracks.brightness, limits,
                                       None, problems, warnings)
    progress("checking the face", 1, 1)
    h, w = img.shape[:2]
    return QualityReport(file=path.name, kind="photo", width=w, height=h, sampled_frames=1,
                         face_ratio=ratio, inter_ocular_px=iod, brightness=bright,
                         problems=tuple(problems), warnings=tuple(warnings))
