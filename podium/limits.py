"""Bounds on what one request may ask for, checked once in the front door for every
interface (the command line, the studio, and later the REST API and job workers)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from podium.common.errors import UserInputError
from podium.lipsync.layout import check_layout
from podium.lipsync.pipeline import RenderOptions

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
