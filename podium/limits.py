"""Bounds on what one request may ask for, checked once in the front door for every
interface (the command line, the studio, and later the REST API and job workers).

Every bound is here, defined here or re-exported from the module that checks it (so the
lower layers need not import the front door). Each is checked before any slow work: a
request past one is a :class:`UserInputError` (exit 2, one line) and nothing is written.
The README's "Limits" table lists them with their defaults.

* :data:`MAX_VIDEO_MINUTES` (30; ``PODIUM_MAX_VIDEO_MINUTES``): a script's pauses plus its
  spoken time at :data:`FAST_CHARS_PER_S` (``speech.script.parse_script``), a recording's
  length from its header (:func:`check_recording`), the scenes' total
  (:func:`check_scenes`); music is decoded only as far as the video lasts.
* :data:`MAX_SCRIPT_CHARS` (100 000; ``PODIUM_MAX_SCRIPT_CHARS``): ``parse_script``, before
  anything else; :data:`MAX_SCRIPT_FILE_BYTES` (1 MiB): ``Speech.from_script_file``;
  :data:`MAX_PAUSE_S` (10 s): one ``[pause]``.
* :data:`MAX_IMAGE_SIDE` (8192 px; ``PODIUM_MAX_IMAGE_SIDE``) and :data:`MAX_IMAGE_MEGAPIXELS`
  (40; ``PODIUM_MAX_IMAGE_MEGAPIXELS``): slides, backgrounds, scene slides and portraits,
  read from the header before decoding (:func:`check_image_size`).
* :data:`MAX_SCENES_FILE_BYTES` (1 MiB) and no YAML anchors or aliases: ``load_scenes``;
  :data:`MAX_SCENES` (200; ``PODIUM_MAX_SCENES``): scenes of one video.
* ``MAX_BATCH_*``: a batch's rows file (``lipsync.batch.read_rows``).
* :data:`MAX_TRAIN_MINUTES`, :data:`MIN_SIZE` / :data:`MAX_SIZE`, :data:`MUSIC_VOLUME_DB`:
  :func:`check_render_options` and friends below.

An environment variable set to anything but a positive number is itself refused.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from podium.common.errors import UserInputError
from podium.common.media import (
    MAX_IMAGE_MEGAPIXELS,
    MAX_IMAGE_SIDE,
    MAX_VIDEO_MINUTES,
    check_image_size,
    env_limit,
    max_video_seconds,
)
from podium.lipsync.layout import check_layout
from podium.lipsync.pipeline import RenderOptions
from podium.lipsync.scenes import MAX_SCENES, MAX_SCENES_FILE_BYTES, check_scenes, max_scenes
from podium.speech.script import (
    FAST_CHARS_PER_S,
    MAX_PAUSE_S,
    MAX_SCRIPT_CHARS,
    check_duration,
    estimated_seconds,
    max_script_chars,
)
from podium.speech_input import MAX_SCRIPT_FILE_BYTES, check_recording

__all__ = [
    "FAST_CHARS_PER_S", "MAX_BATCH_CELL_CHARS", "MAX_BATCH_COLUMNS", "MAX_BATCH_FILE_BYTES",
    "MAX_BATCH_ROWS", "MAX_IMAGE_MEGAPIXELS", "MAX_IMAGE_SIDE", "MAX_PAUSE_S", "MAX_SCENES",
    "MAX_SCENES_FILE_BYTES", "MAX_SCRIPT_CHARS", "MAX_SCRIPT_FILE_BYTES", "MAX_SIZE",
    "MAX_TRAIN_MINUTES", "MAX_VIDEO_MINUTES", "MIN_SIZE", "MUSIC_VOLUME_DB", "RENDERERS",
    "check_duration", "check_image_size", "check_recording", "check_render_options",
    "check_scenes", "check_size", "check_train_minutes", "env_limit", "estimated_seconds",
    "max_scenes", "max_script_chars", "max_video_seconds", "parse_size",
]

#: Longest neural-renderer training one request may ask for, minutes.
MAX_TRAIN_MINUTES = 120.0
#: Output frame size bounds, pixels (width, height).
MIN_SIZE = (64, 64)
MAX_SIZE = (3840, 2160)
#: Music level relative to the speech, dB.
MUSIC_VOLUME_DB = (-60.0, 0.0)
RENDERERS = ("auto", "warp", "neural")


def check_train_minutes(minutes) -> float:
    """``minutes`` as a float, or :class:`UserInputError` unless 0 < minutes <= 120."""
    try:
        value = float(minutes)
    except (TypeError, ValueError):
        raise UserInputError(f"training time '{minutes}' is not a number of minutes") from None
    if not 0 < value <= MAX_TRAIN_MINUTES:  # NaN fails this too
        raise UserInputError(f"training time {value:g} min is out of range; give 0-{MAX_TRAIN_MINUTES:g} minutes")
    return value


def check_size(size) -> tuple[int, int] | None:
    """An output (width, height) within :data:`MIN_SIZE`..:data:`MAX_SIZE`, or None."""
    if size is None:
        return None
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise UserInputError(f"output size {size!r} is not a width and a height") from None
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise UserInputError(f"output size {w}x{h} is out of range ({MIN_SIZE[0]}x{MIN_SIZE[1]} to "
                             f"{MAX_SIZE[0]}x{MAX_SIZE[1]})")
    return w, h


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"1280x720"`` -> (1280, 720), checked; empty -> None."""
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserInputError(f"size must look like 1280x720, got '{text}'") from None
    return check_size((w, h))


def check_render_options(options: RenderOptions) -> RenderOptions:
    """Every option of a render in range, files present, the layout's colours and images
    readable. Returns the options as they will be used (size as ints).

    Raises
    ------
    UserInputError
        What is wrong, quoting the value.
    """
    if not isinstance(options, RenderOptions):
        raise UserInputError(f"render options must be podium.RenderOptions, got {type(options).__name__}")
    if options.renderer not in RENDERERS:
        raise UserInputError(f"unknown renderer '{options.renderer}'; use one of {', '.join(RENDERERS)}")
    if options.music is not None and not Path(options.music).is_file():
        raise UserInputError(f"music file not found: '{options.music}'; check the path")
    low, high = MUSIC_VOLUME_DB
    volume = float(options.music_volume_db)
    if not (math.isfinite(volume) and low <= volume <= high):
        raise UserInputError(f"music volume {volume:g} dB is out of range; give {low:g} to {high:g} dB "
                             "relative to the speech (default -20)")
    if options.rate_wpm is not None and (isinstance(options.rate_wpm, bool)
                                         or not isinstance(options.rate_wpm, int)):
        raise UserInputError(f"speaking rate {options.rate_wpm!r} must be a whole number of words per minute")
    check_layout(options.layout)
    return replace(options, size=check_size(options.size))


# Rows files of `podium batch`: defined beside their reader (lipsync.batch), re-exported here
# with the other bounds of one request.
from podium.lipsync.batch import MAX_BATCH_CELL_CHARS as MAX_BATCH_CELL_CHARS  # noqa: E402
from podium.lipsync.batch import MAX_BATCH_COLUMNS as MAX_BATCH_COLUMNS  # noqa: E402
from podium.lipsync.batch import MAX_BATCH_FILE_BYTES as MAX_BATCH_FILE_BYTES  # noqa: E402
from podium.lipsync.batch import MAX_BATCH_ROWS as MAX_BATCH_ROWS  # noqa: E402
