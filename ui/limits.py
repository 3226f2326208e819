"""Bounds on what a user may ask for, shared by the command line and the studio."""

from __future__ import annotations

from podium.common.errors import UserInputError

#: Longest neural-renderer training one request may ask for, minutes.
MAX_TRAIN_MINUTES = 120.0


def check_train_minutes(minutes) -> float:
    """``minutes`` as a float, or :class:`UserInputError` unless 0 < minutes <= 120."""
    try:
        value = float(minutes)
    except (TypeError, ValueError):
        raise UserInputError(f"training time '{minutes}' is not a number of minutes") from None
    if not 0 < value <= MAX_TRAIN_MINUTES:
        raise UserInputError(f"training time {value:g} min is out of range; give 0-{MAX_TRAIN_MINUTES:g} minutes")
    return value
