"""The voices Podium speaks with, under short stable ids.

espeak-ng's voices: espeak's own ``espeak_SetVoiceByName`` accepts a voice's
file name or human name but not every language code it lists ("en-gb",
"fr-fr", "zh" fail), so Podium gives each voice an id of its own and always
selects voices by their espeak identifier.

Kokoro-82M's neural English voices have ids starting with "kokoro:" (see
:data:`speech.kokoro.VOICES`); they are listed when the Kokoro packages are
installed.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from podium.common.errors import VoiceError
from podium.speech import espeak, kokoro, kokoro_model, piper

DEFAULT_VOICE = "kokoro:jm_kumo"
"""The voice used when none is chosen: Kokoro's clearest English voice (benchmarks/voices.py:
pocketsphinx word error rate 0.14, against 0.85 for espeak-ng en-us)."""
FAST_VOICE = "en-us"
"""espeak-ng English: a hundred times faster than Kokoro, robotic; what tests of timing use."""

_GENDERS = {1: "male", 2: "female"}


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
        "espeak-ng", "kokoro" or "piper" (``identifier`` is then the model file).
    """

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str
    identifier: str
    engine: str = "espeak-ng"


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


@functools.lru_cache(maxsize=1)
def _kokoro_voices() -> tuple[VoiceInfo, ...]:
    """Kokoro's voices, or none when its packages are not installed."""
    if kokoro_model.missing_packages():
        return ()
    return tuple(_kokoro_info(v) for v in kokoro.VOICES.values())


def _kokoro_info(v: "kokoro.KokoroVoice") -> VoiceInfo:
    mix = v.mix[0][0] if len(v.mix) == 1 else "+".join(f"{w:g}*{s}" for s, w in v.mix)
    return VoiceInfo(id=v.id, name=v.description, languages=("en-us", "en"), gender=v.gender,
                     identifier=mix, engine="kokoro")


def _piper_info(model: Path) -> VoiceInfo:
    """A Piper voice: its id names the file (dropped-in voices by their stem)."""
    import json

    try:
        config = json.loads(Path(f"{model}.json").read_text("utf-8"))
        lang = str(config.get("language", {}).get("code") or config["espeak"]["voice"]).lower()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        lang = "unknown"  # the backend reports a bad config when the voice is used
    dropped = model.parent == piper.voices_folder() and model.suffix == ".onnx"
    vid = f"{piper.PREFIX}{model.stem if dropped else model}"
    return VoiceInfo(id=vid, name=f"Piper {model.stem} (neural)", languages=(lang.replace("_", "-"),),
                     gender="unknown", identifier=str(model), engine="piper")


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
    dropped = tuple(_piper_info(m) for m in piper.list_piper_voices())
    voices = sorted(_all_voices() + _kokoro_voices() + dropped, key=lambda v: v.id)
    if language is None:
        return voices
    want = _norm(language)
    return [
        v for v in voices
        if any(code == want or code.startswith(want + "-") for code in v.languages)
    ]


def resolve_voice(voice: str) -> VoiceInfo:
    """Find the voice a user means.

    Accepts, case-insensitively: a voice id ("en-us", "kokoro:jm_kumo"), an
    espeak identifier or its file name ("gmw/en-US", "en-US"), a voice name
    ("German"), or any language code a voice lists ("en", "fr", "zh"), in that
    order; for a language code the espeak-ng voice ranking it highest wins.
    "kokoro:kumo" is short for "kokoro:jm_kumo".

    Parameters
    ----------
    voice : str

    Returns
    -------
    VoiceInfo

    Raises
    ------
    VoiceError
        No voice matches, or a Kokoro voice is asked for and its packages are
        not installed (the message says what to install).
    """
    if isinstance(voice, str) and voice.strip().lower().startswith(kokoro.PREFIX):
        kokoro_model.check_installed()
        return _kokoro_info(kokoro.voice_for(voice))
    if isinstance(voice, str) and voice.strip().lower().startswith(piper.PREFIX):
        return _piper_info(piper.find_model(voice.strip()))
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
