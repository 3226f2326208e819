"""The speech engines Podium speaks with, and the one registry they plug into.

Each engine module (:mod:`speech.espeak_engine`, :mod:`speech.kokoro`,
:mod:`speech.piper`) describes itself with an :class:`Engine` and calls
:func:`register` when it is imported; :mod:`speech` imports all three.
:mod:`speech.voices` (listing and resolving voices) and :mod:`speech.tts`
(backends and synthesis) only ask this registry, so they import no engine and
no engine imports them.

This module imports no engine: it is the bottom of the graph they stand on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from podium.common.errors import VoiceError
from podium.speech.backend import VoiceBackend

Home = str | Path | None
"""A library folder, or None for :func:`common.files.default_home`."""


@dataclass(frozen=True)
class VoiceInfo:
    """One voice Podium can speak with.

    Attributes
    ----------
    id : str
        What ``synthesize(voice=...)`` takes: for espeak-ng the voice's main
        language code, lower case, e.g. "en-us", "en-gb", "de", "fr-fr",
        "cmn", "ja"; for Kokoro "kokoro:" and a name, e.g. "kokoro:jm_kumo".
    name : str
        Human name, e.g. "English (America)" (from espeak-ng) or
        "Kokoro Kumo (neural)".
    languages : tuple of str
        Language codes this voice speaks, best match first, e.g.
        ("en-gb", "en").
    gender : str
        "male", "female" or "unknown".
    identifier : str
        The engine's own name for the voice: espeak-ng's voice file, e.g.
        "gmw/en-US"; for Kokoro its style mix, e.g. "jm_kumo" or
        "0.5*jm_kumo+0.5*jf_nezumi".
    engine : str
        "espeak-ng", "kokoro" or "piper" (``identifier`` is then the model file):
        the :attr:`Engine.name` of the engine that speaks it.
    """

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str
    identifier: str
    engine: str = "espeak-ng"


@dataclass(frozen=True)
class Engine:
    """How to list, resolve and speak the voices of one speech engine.

    Attributes
    ----------
    name : str
        :attr:`VoiceInfo.engine` of its voices, e.g. "espeak-ng", "kokoro", "piper".
    prefix : str or None
        Lower-case start of every voice id it owns ("kokoro:", "piper:"); a voice
        asked for with that prefix goes to this engine only. None for an engine
        whose ids have no prefix (espeak-ng): it is asked about every other voice.
    voices : callable (home) -> iterable of VoiceInfo
        The voices it offers with the library folder ``home`` (None: the default
        one); what :func:`speech.voices.list_voices` lists.
    resolve : callable (voice, home) -> VoiceInfo or None
        The voice a user's string means, None when the engine has no such voice
        (an engine with a prefix may raise :class:`VoiceError` with a better message).
    backend : callable (VoiceInfo) -> VoiceBackend
        The backend that speaks one of its voices.
    english_only : bool
        Its voices speak English only; :func:`speech.synthesize` refuses a script
        that does not look English.
    phones_from : str or None
        An espeak-ng voice whose phones this engine speaks, so that
        :func:`speech.ipa_phonemes` runs that voice instead of the engine's model.
    """

    name: str
    prefix: str | None
    voices: Callable[[Home], Iterable[VoiceInfo]]
    resolve: Callable[[str, Home], VoiceInfo | None]
    backend: Callable[[VoiceInfo], VoiceBackend]
    english_only: bool = False
    phones_from: str | None = None


_ENGINES: dict[str, Engine] = {}


def register(engine: Engine) -> Engine:
    """Add ``engine`` to the registry (replacing one of the same name) and return it."""
    _ENGINES[engine.name] = engine
    return engine


def registered() -> tuple[Engine, ...]:
    """Every registered engine, in the order they were registered."""
    return tuple(_ENGINES.values())


def named(name: str) -> Engine:
    """The engine whose :attr:`Engine.name` is ``name``.

    Raises
    ------
    VoiceError
        No such engine is registered.
    """
    try:
        return _ENGINES[name]
    except KeyError:
        known = ", ".join(_ENGINES) or "none"
        raise VoiceError(f"no speech engine {name!r}; the engines are {known}") from None


def owning(voice: str) -> Engine | None:
    """The engine whose prefix ``voice`` starts with (case-insensitive), if any."""
    want = voice.strip().lower()
    for engine in _ENGINES.values():
        if engine.prefix and want.startswith(engine.prefix):
            return engine
    return None


def unprefixed() -> tuple[Engine, ...]:
    """The engines without a prefix, asked in turn about a voice no prefix claims."""
    return tuple(e for e in _ENGINES.values() if not e.prefix)
