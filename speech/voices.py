"""The voices espeak-ng offers, under short stable ids.

espeak's own ``espeak_SetVoiceByName`` accepts a voice's file name or human
name but not every language code it lists ("en-gb", "fr-fr", "zh" fail), so
Podium gives each voice an id of its own and always selects voices by their
espeak identifier.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from common.errors import VoiceError
from speech import espeak

DEFAULT_VOICE = "en-us"

_GENDERS = {1: "male", 2: "female"}


@dataclass(frozen=True)
class VoiceInfo:
    """One voice Podium can speak with.

    Attributes
    ----------
    id : str
        What ``synthesize(voice=...)`` takes: the voice's main language code,
        lower case, e.g. "en-us", "en-gb", "de", "fr-fr", "cmn", "ja".
    name : str
        Human name from espeak-ng, e.g. "English (America)".
    languages : tuple of str
        Language codes this voice speaks, best match first, e.g.
        ("en-gb", "en").
    gender : str
        "male", "female" or "unknown".
    identifier : str
        espeak-ng's voice file, e.g. "gmw/en-US".
    """

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str
    identifier: str


def _dictionary_exists(raw: espeak.RawVoice, data: Path) -> bool:
    # A few voices ship without their pronunciation dictionary in the wheel;
    # selecting one prints an error and speaks nothing, so they are hidden.
    # espeak uses the voice file's "dictionary" line, else its first
    # language code without the region.
    dictionary = None
    voice_file = data / "lang" / raw.identifier
    try:
        for line in voice_file.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "dictionary":
                dictionary = parts[1]
                break
            if len(parts) >= 2 and parts[0] == "language" and dictionary is None:
                dictionary = parts[1].split("-")[0]
    except OSError:
        return True  # cannot tell; let espeak decide
    if dictionary is None:
        return True
    return (data / f"{dictionary}_dict").is_file()


@functools.lru_cache(maxsize=1)
def _all_voices() -> tuple[VoiceInfo, ...]:
    return tuple(v for v, _ in _voices_with_priorities())


@functools.lru_cache(maxsize=1)
def _voices_with_priorities() -> tuple[tuple[VoiceInfo, dict[str, int]], ...]:
    """Each voice with espeak's priority per language code (lower is better)."""
    data = Path(espeak.data_path())
    raws = [r for r in espeak.voices() if r.languages and _dictionary_exists(r, data)]
    primary = Counter(r.languages[0][1].lower() for r in raws)
    out = []
    for r in raws:
        langs = tuple(code.lower() for _, code in sorted(r.languages, key=lambda pc: pc[0]))
        main = r.languages[0][1].lower()
        # Two Cantonese voices share "yue": fall back to the unique file name.
        vid = main if primary[main] == 1 else r.identifier.rsplit("/", 1)[-1].lower()
        info = VoiceInfo(
            id=vid,
            name=r.name,
            languages=langs,
            gender=_GENDERS.get(r.gender, "unknown"),
            identifier=r.identifier,
        )
        out.append((info, {code.lower(): prio for prio, code in r.languages}))
    return tuple(sorted(out, key=lambda vp: vp[0].id))


def _norm(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def list_voices(*, language: str | None = None) -> list[VoiceInfo]:
    """Voices available, sorted by id.

    Parameters
    ----------
    language : str, optional, keyword-only
        Keep only voices speaking this language: "en" matches "en", "en-us",
        "en-gb-x-rp"...; "en-gb" matches "en-gb" and "en-gb-scotland". Case and
        "_" versus "-" do not matter.

    Returns
    -------
    list of VoiceInfo
    """
    voices = list(_all_voices())
    if language is None:
        return voices
    want = _norm(language)
    return [
        v for v in voices
        if any(code == want or code.startswith(want + "-") for code in v.languages)
    ]


def resolve_voice(voice: str) -> VoiceInfo:
    """Find the voice a user means.

    Accepts, case-insensitively: a voice id ("en-us"), an espeak identifier or
    its file name ("gmw/en-US", "en-US"), a voice name ("German"), or any
    language code a voice lists ("en", "fr", "zh"), in that order; for a
    language code the voice ranking it highest wins.

    Parameters
    ----------
    voice : str

    Returns
    -------
    VoiceInfo

    Raises
    ------
    VoiceError
        No voice matches.
    """
    want = _norm(voice) if isinstance(voice, str) else ""
    voices = _all_voices()
    if want:
        for v in voices:
            if v.id == want:
                return v
        for v in voices:
            ident = v.identifier.lower()
            if want in (ident, ident.rsplit("/", 1)[-1]):
                return v
        for v in voices:
            if v.name.lower() == want:
                return v
        ranked = [
            (prios[want], order, v)
            for order, (v, prios) in enumerate(_voices_with_priorities())
            if want in prios
        ]
        if ranked:
            return min(ranked, key=lambda t: t[:2])[2]
    raise VoiceError(f"unknown voice {voice!r}; run `podium voices` to list them")
