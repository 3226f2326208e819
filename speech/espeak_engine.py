"""The espeak-ng engine: its voice catalogue and :class:`EspeakBackend`.

espeak's own ``espeak_SetVoiceByName`` accepts a voice's file name or human
name but not every language code it lists ("en-gb", "fr-fr", "zh" fail), so
Podium gives each voice an id of its own (its main language code) and always
selects voices by their espeak identifier. espeak-ng voice ids have no prefix:
this engine is asked about every voice no other engine's prefix claims.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np

from podium.common.errors import UserInputError
from podium.speech import engines, espeak
from podium.speech.backend import SynthesisOptions, VoiceBackend, apply_gain
from podium.speech.engines import Engine, VoiceInfo
from podium.speech.espeak_timing import align
from podium.speech.utterance import Phone, Sentence, Utterance, Word

NAME = "espeak-ng"
_GENDERS = {1: "male", 2: "female"}


class EspeakBackend(VoiceBackend):
    """An espeak-ng voice (22050 Hz), timed by espeak's own phoneme and word events.

    Parameters
    ----------
    info : VoiceInfo
        An espeak-ng voice from :func:`speech.voices.resolve_voice`.

    Notes
    -----
    ``options.rate`` times 175 is the rate in words per minute (80..450);
    ``options.pitch`` times 50 is espeak's base pitch parameter (0..100).
    """

    def __init__(self, info: VoiceInfo) -> None:
        self.info = info
        self.id = info.id
        self.language = info.languages[0] if info.languages else info.id
        self.sample_rate = espeak.sample_rate()

    def synthesize_sentence(self, text: str, options: SynthesisOptions = SynthesisOptions()) -> Utterance | None:
        """Speak one sentence; see :meth:`VoiceBackend.synthesize_sentence`.

        Raises
        ------
        UserInputError
            ``options.rate`` outside 80..450 words per minute.
        """
        rate = espeak.DEFAULT_RATE_WPM if options.rate is None else int(round(espeak.DEFAULT_RATE_WPM * options.rate))
        if not espeak.MIN_RATE_WPM <= rate <= espeak.MAX_RATE_WPM:
            raise UserInputError(
                f"speaking rate {options.rate!r} ({rate} words per minute) is out of range for "
                f"espeak-ng voice {self.id!r}; give {espeak.MIN_RATE_WPM / espeak.DEFAULT_RATE_WPM:.2f}"
                f"..{espeak.MAX_RATE_WPM / espeak.DEFAULT_RATE_WPM:.2f}"
            )
        pitch = espeak.DEFAULT_PITCH if options.pitch is None else int(round(espeak.DEFAULT_PITCH * options.pitch))
        raw = espeak.synth(text, identifier=self.info.identifier, rate_wpm=rate, pitch=min(max(pitch, 0), 100))
        aligned = align(text, raw)
        if aligned is None:
            return None
        sr = float(raw.sample_rate)
        audio = apply_gain(aligned.samples.astype(np.float32) / np.float32(32768.0), options.gain)
        return Utterance(
            audio=audio,
            sample_rate=int(raw.sample_rate),
            phonemes=tuple(Phone(p.label, p.start / sr, p.end / sr) for p in aligned.phones),
            words=tuple(Word(w.label, w.start / sr, w.end / sr) for w in aligned.words),
            sentences=(Sentence(text, 0.0, len(aligned.samples) / sr),),
        )


# --- the catalogue ---------------------------------------------------------------------------


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
def all_voices() -> tuple[VoiceInfo, ...]:
    """espeak-ng's voices (those whose dictionary is installed), sorted by id."""
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
            engine=NAME,
        )
        out.append((info, {code.lower(): prio for prio, code in r.languages}))
    return tuple(sorted(out, key=lambda vp: vp[0].id))


def find_voice(voice: str) -> VoiceInfo | None:
    """The espeak-ng voice ``voice`` names, or None.

    Tries, case-insensitively and with "_" read as "-": a voice id ("en-us"), an
    espeak identifier or its file name ("gmw/en-US", "en-US"), a voice name
    ("German"), then any language code a voice lists ("en", "fr", "zh"); for a
    language code the voice ranking it highest wins.

    Parameters
    ----------
    voice : str

    Returns
    -------
    VoiceInfo or None
    """
    want = voice.strip().lower().replace("_", "-") if isinstance(voice, str) else ""
    if not want:
        return None
    voices = all_voices()
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
    return None


ENGINE = engines.register(Engine(
    name=NAME,
    prefix=None,
    voices=lambda home: all_voices(),
    resolve=lambda voice, home: find_voice(voice),
    backend=EspeakBackend,
))
