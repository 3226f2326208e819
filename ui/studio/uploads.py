"""Server-side checks of every uploaded file, before any slow work.

The browser's file picker filters by extension only; anything can arrive. Each
upload is probed with ffmpeg (:func:`common.media.probe`, with a timeout) and must
hold the streams its field needs; a text file renamed ``.mp4`` is refused with a
message that says what to upload instead.
"""

from __future__ import annotations

from pathlib import Path

from podium.avatars.photo import PHOTO_SUFFIXES
from podium.common.errors import FootageError, UserInputError
from podium.common.media import MediaInfo, probe

CSV_MAX_BYTES = 5 * 1024 * 1024


def _existing(path, what: str) -> Path:
    if path is None or (isinstance(path, str) and not path.strip()):
        raise UserInputError(f"upload {what} first")
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"the uploaded {what} is gone (the upload may have expired); upload it again")
    if path.stat().st_size == 0:
        raise UserInputError(f"the uploaded {what} '{path.name}' is empty")
    return path


def is_photo(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


def check_video(path, what: str = "a video") -> tuple[Path, MediaInfo]:
    """A readable video file, or a clear error."""
    path = _existing(path, what)
    if is_photo(path):
        raise FootageError(f"'{path.name}' is a photo; {what} is needed here")
    info = probe(path)
    if info.video_codec is None:
        raise FootageError(f"'{path.name}' has no video stream; upload {what} (MP4, MOV, WebM or MKV)")
    if info.duration <= 0:
        raise FootageError(f"'{path.name}' has no duration; is it a still image? upload {what}")
    return path, info


def check_photo(path, what: str = "a portrait photo") -> tuple[Path, MediaInfo]:
    path = _existing(path, what)
    info = probe(path)
    if info.video_codec is None or info.width <= 0:
        raise FootageError(f"'{path.name}' is not an image ffmpeg can read; use JPEG, PNG or WebP")
    return path, info


def check_footage_or_photo(path) -> tuple[Path, MediaInfo, str]:
    """An avatar source: ``(path, info, "photo" | "footage")``."""
    if path is not None and is_photo(path):
        p, info = check_photo(path)
        return p, info, "photo"
    p, info = check_video(path, "footage of the presenter")
    return p, info, "footage"


def check_audio(path, what: str = "a voice recording") -> tuple[Path, MediaInfo]:
    path = _existing(path, what)
    info = probe(path)
    if not info.has_audio:
        raise UserInputError(f"'{path.name}' has no sound; upload {what} (WAV, MP3, M4A, FLAC)")
    return path, info


def check_csv(path) -> tuple[Path, str]:
    """A UTF-8 CSV file of at most :data:`CSV_MAX_BYTES`; returns its text too."""
    path = _existing(path, "a CSV file")
    if path.stat().st_size > CSV_MAX_BYTES:
        raise UserInputError(f"'{path.name}' is larger than {CSV_MAX_BYTES // (1024 * 1024)} MB; "
                             "a batch CSV holds one row per video")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(f"'{path.name}' is not UTF-8 text; save the CSV as UTF-8") from exc
    if "\x00" in text:
        raise UserInputError(f"'{path.name}' is not a CSV text file")
    return path, text
