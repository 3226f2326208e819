"""The voices Podium speaks with, under short stable ids, from every registered engine.

Each engine (:mod:`speech.engines`) lists and resolves its own voices:
espeak-ng's (:mod:`speech.espeak_engine`) have ids like "en-us" or "de";
Kokoro-82M's neural English voices have ids starting with "kokoro:" (see
:data:`speech.kokoro.VOICES`) and are listed when the Kokoro packages are
installed; Piper voices are "piper:/path/to/voice.onnx", or "piper:NAME" for
a voice dropped into the library's ``voices/`` folder (:mod:`speech.piper`).
"""

from __future__ import annotations

from pathlib import Path

from podium.common.errors import VoiceError
from podium.speech import engines
from podium.speech.engines import VoiceInfo

__all__ = ["DEFAULT_VOICE", "FAST_VOICE", "VoiceInfo", "list_voices", "resolve_voice"]

DEFAULT_VOICE = "kokoro:jm_kumo"
"""The voice used when none is chosen: Kokoro's clearest English voice (benchmarks/voices.py:
pocketsphinx word error rate 0.14, against 0.85 for espeak-ng en-us)."""
FAST_VOICE = "en-us"
"""espeak-ng English: a hundred times faster than Kokoro, robotic; what tests of timing use."""


def _norm(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def list_voices(*, language: str | None = None, home: str | Path | None = None) -> list[VoiceInfo]:
    """Voices available, sorted by id.

    Parameters
    ----------
    language : str, optional, keyword-only
        Keep only voices speaking this language: "en" matches "en", "en-us",
        "en-gb-x-rp"...; "en-gb" matches "en-gb" and "en-gb-scotland". Case and
        "_" versus "-" do not matter.
    home : str or Path, optional, keyword-only
        The library folder whose ``voices/`` holds dropped-in Piper voices
        (listed as "piper:NAME"); by default :func:`common.files.default_home`
        ($PODIUM_HOME, else the user's data directory).

    Returns
    -------
    list of VoiceInfo
    """
    voices = sorted((v for engine in engines.registered() for v in engine.voices(home)),
                    key=lambda v: v.id)
    if language is None:
        return voices
    want = _norm(language)
    return [
        v for v in voices
        if any(code == want or code.startswith(want + "-") for code in v.languages)
    ]


def resolve_voice(voice: str, *, home: str | Path | None = None) -> VoiceInfo:
    """Find the voice a user means.

    A voice starting with an engine's prefix ("kokoro:", "piper:") goes to that
    engine: "kokoro:jm_kumo" (or "kokoro:kumo" for short), "piper:/path/to/voice.onnx"
    or "piper:NAME" for a voice in the library's ``voices/`` folder. Anything else
    is an espeak-ng voice; accepted, case-insensitively: a voice id ("en-us"), an
    espeak identifier or its file name ("gmw/en-US", "en-US"), a voice name
    ("German"), or any language code a voice lists ("en", "fr", "zh"), in that
    order; for a language code the espeak-ng voice ranking it highest wins.

    Parameters
    ----------
    voice : str
    home : str or Path, optional, keyword-only
        The library folder where "piper:NAME" is looked up (in its ``voices/``),
        and against which a Piper voice's id is given as "piper:NAME"; by default
        :func:`common.files.default_home` ($PODIUM_HOME, else the user's data
        directory).

    Returns
    -------
    VoiceInfo

    Raises
    ------
    VoiceError
        No voice matches, or a Kokoro voice is asked for and its packages are
        not installed (the message says what to install).
    """
    if isinstance(voice, str):
        owner = engines.owning(voice)
        candidates = (owner,) if owner is not None else engines.unprefixed()
        for engine in candidates:
            info = engine.resolve(voice, home)
            if info is not None:
                return info
    raise VoiceError(f"unknown voice {voice!r}; run `podium voices` to list them")
