"""One root error class with narrow subclasses.

The command line prints ``str(err)`` and exits 2 for a :class:`UserInputError`
(the user can fix it) and 1 for anything else. Messages quote the bad value and
say what to do.
"""


class PodiumError(Exception):
    """Root of every error Podium raises on purpose."""


class UserInputError(PodiumError):
    """Bad input the user can fix: a missing file, an unknown name, an empty script."""


class FootageError(UserInputError):
    """Footage or a photo that cannot make an avatar (no face, too short, too dark...)."""


class AvatarError(UserInputError):
    """An avatar name that is invalid, unknown or already taken."""


class VoiceError(UserInputError):
    """An unknown voice or language."""


class ScriptError(UserInputError):
    """A script that is empty or has bad markup."""


class InternalError(PodiumError):
    """A failure that is not the user's fault (encoder crash, corrupt avatar files)."""


class AvatarDamaged(InternalError):
    """An avatar whose stored files are missing, corrupt or out of range: re-create it."""
