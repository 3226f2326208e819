"""Podium: talking-presenter videos from a short clip or one photo, offline.

The front door::

    import podium

    library = podium.Library("~/podium")
    anna = library.create_avatar("anna", footage="anna.mp4", consent="Anna Example")
    speech = podium.Speech.from_script("Welcome to the course. [pause 1s] Let's begin.")
    result = anna.render(speech, "intro.mp4")

Attributes load on first use, so ``import podium`` (and every ``podium.<package>``
import, which runs this file first) stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

_FACADE = {
    "Library": "podium.library",
    "Avatar": "podium.library",
    "voices": "podium.library",
    "Speech": "podium.speech_input",
    "Scene": "podium.lipsync.scenes",
    "RenderOptions": "podium.lipsync.pipeline",
    "RenderResult": "podium.lipsync.pipeline",
    "Layout": "podium.lipsync.layout",
    "AvatarManifest": "podium.avatars.manifest",
    "PodiumError": "podium.common.errors",
    "UserInputError": "podium.common.errors",
}

__all__ = ["AvatarManifest", "Avatar", "Layout", "Library", "PodiumError", "RenderOptions",
           "RenderResult", "Scene", "Speech", "UserInputError", "voices"]


def __getattr__(name: str):
    module = _FACADE.get(name)
    if module is None:
        raise AttributeError(f"module 'podium' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FACADE))
