"""Types shared by every Podium package: the error hierarchy and media helpers.

``common`` imports nothing of ours, so ``speech`` and ``avatars`` may both use it
without breaking the import direction of DESIGN.md.
"""

from podium.common.errors import (
    AvatarDamaged,
    AvatarError,
    FootageError,
    InternalError,
    PodiumError,
    ScriptError,
    UserInputError,
    VoiceError,
)

__all__ = [
    "AvatarDamaged",
    "AvatarError",
    "FootageError",
    "InternalError",
    "PodiumError",
    "ScriptError",
    "UserInputError",
    "VoiceError",
]
