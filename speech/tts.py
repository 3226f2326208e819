"""Text to speech: script in, :class:`~speech.utterance.Utterance` out.

Each :class:`~speech.script.TextSegment` is synthesised on its own by the
voice's :class:`~speech.backend.VoiceBackend`, trimmed to its first and last
phone (espeak's own lead-in and tail are exact zeros, so nothing audible is
lost; Kokoro's are cut at its predicted phone boundaries with a 5 ms fade),
and the segments are joined with exact silences. That way every pause in the
result is the length the script asks for, whatever the voice.

Which engine speaks a voice is the registry's business (:mod:`speech.engines`):
voices whose id starts with "kokoro:" are Kokoro-82M's (:mod:`speech.kokoro`),
"piper:" ones Piper's (:mod:`speech.piper`), all others espeak-ng's
(:mod:`speech.espeak_engine`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from podium.common.errors import ScriptError, UserInputError
from podium.speech import engines, espeak, markup, readings
from podium.speech.backend import SynthesisOptions, VoiceBackend

# EspeakBackend lived here before the engine registry; still importable from here.
from podium.speech.espeak_engine import EspeakBackend  # noqa: F401
from podium.speech.script import PauseSegment, Segment, TextSegment, parse_script
from podium.speech.utterance import Phone, Sentence, Utterance, Word
from podium.speech.voices import DEFAULT_VOICE, VoiceInfo, resolve_voice


def _check_rate(rate_wpm: int | None) -> int:
    if rate_wpm is None:
        return espeak.DEFAULT_RATE_WPM
    if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, (int, np.integer)) or not (
        espeak.MIN_RATE_WPM <= rate_wpm <= espeak.MAX_RATE_WPM
    ):
        raise UserInputError(
            f"speaking rate {rate_wpm!r} is out of range; give a whole number of words per "
            f"minute from {espeak.MIN_RATE_WPM} to {espeak.MAX_RATE_WPM} "
            f"(default {espeak.DEFAULT_RATE_WPM})"
        )
    return int(rate_wpm)


def backend_for(voice: str | VoiceInfo, *, home: str | Path | None = None) -> VoiceBackend:
    """The backend that speaks ``voice``, from the engine that owns it (:mod:`speech.engines`).

    Parameters
    ----------
    voice : str or VoiceInfo
        Anything :func:`speech.voices.resolve_voice` accepts, or its result.
    home : str or Path, optional, keyword-only
        The library folder where a "piper:NAME" voice is looked up (in its
        ``voices/``); by default :func:`common.files.default_home`. Unused when
        ``voice`` is a :class:`VoiceInfo`.

    Returns
    -------
    VoiceBackend
        A :class:`speech.kokoro.KokoroBackend` for "kokoro:..." voices (one per
        voice and process, so its style vector is computed once), a
        :class:`speech.piper.PiperBackend` for "piper:..." voices (one per model
        file and process), else an :class:`speech.espeak_engine.EspeakBackend`.

    Raises
    ------
    VoiceError
        Unknown voice, or a Kokoro voice without its packages.
    """
    info = voice if isinstance(voice, VoiceInfo) else resolve_voice(voice, home=home)
    return engines.named(info.engine).backend(info)


def synthesize(script: str | Sequence[Segment], *, voice: str | VoiceInfo = DEFAULT_VOICE,
               rate_wpm: int | None = None,
               pitch: float | None = None, lexicon=None, home: str | Path | None = None) -> Utterance:
    """Speak a script.

    Parameters
    ----------
    script : str or sequence of Segment
        Script text (see :func:`speech.script.parse_script` for markup), or what
        ``parse_script`` made of it (a caller that checked the script already).
    voice : str or VoiceInfo, keyword-only
        A voice id from :func:`speech.voices.list_voices` ("en-us", "de",
        "fr-fr", "cmn", "ja", "kokoro:jm_kumo"...), anything
        :func:`resolve_voice` accepts, or its result.
    rate_wpm : int, optional, keyword-only
        Speaking rate in words per minute, 80..450; espeak's 175 by default.
        Pauses do not scale with it. Kokoro voices take it relative to 175
        (87..350: 0.5 to 2 times their normal rate).
    pitch : float, optional, keyword-only
        Base pitch relative to the voice's, 0.25..2.0; espeak-ng voices only (Kokoro
        and Piper voices refuse anything but 1).
    lexicon : speech.lexicon.Lexicon, optional, keyword-only
        Pronunciations applied to every word they match; captions keep the
        written words. Numbers, money and abbreviations the voice's language
        reads wrongly are fixed too (:mod:`speech.readings`).
    home : str or Path, optional, keyword-only
        The library folder where a "piper:NAME" voice is looked up (in its
        ``voices/``); by default :func:`common.files.default_home`
        ($PODIUM_HOME, else the user's data directory).

    Returns
    -------
    Utterance
        float32 audio at the voice's rate (espeak-ng 22050 Hz, Kokoro 24000 Hz)
        with phone, word and sentence timings.

    Raises
    ------
    ScriptError
        Empty script, bad markup, or nothing the voice can pronounce.
    VoiceError
        Unknown voice, or a Kokoro voice whose packages are missing or damaged.
    UserInputError
        ``rate_wpm`` out of range.
    """
    info = voice if isinstance(voice, VoiceInfo) else resolve_voice(voice, home=home)
    engine = engines.named(info.engine)
    rate = _check_rate(rate_wpm)
    segments = parse_script(script) if isinstance(script, str) else tuple(script)
    if not segments or not all(isinstance(seg, (TextSegment, PauseSegment)) for seg in segments):
        raise ScriptError("the script must be text or the segments parse_script gives")
    if engine.english_only:
        from podium.speech.language_guess import MIN_ENGLISH_SHARE, english_share

        share = english_share(" ".join(markup.written(seg.text) for seg in segments
                                       if isinstance(seg, TextSegment)))
        if share is not None and share < MIN_ENGLISH_SHARE:
            raise ScriptError(
                f"this script does not look English ({share:.0%} English words), but "
                f"voice {info.id!r} speaks English only; choose a voice for the script's language, "
                "e.g. --voice de or --voice fr-fr (`podium voices --language de` lists them)")
    backend = engine.backend(info)
    options = SynthesisOptions(rate=None if rate_wpm is None else rate / espeak.DEFAULT_RATE_WPM,
                               pitch=None if pitch is None or pitch == 1.0 else pitch)

    sample_rate = backend.sample_rate
    pieces: list[np.ndarray] = []
    phones: list[Phone] = []
    words: list[Word] = []
    sentences: list[Sentence] = []
    cursor = 0  # samples written so far
    pending_silence = 0.0
    sentence_parts: list[str] = []
    sentence_start: int | None = None
    sentence_end = 0
    spans: list[tuple[int, Utterance]] = []  # (offset, chunk)

    for seg in segments:
        if isinstance(seg, PauseSegment):
            pending_silence += seg.seconds
            continue
        assert isinstance(seg, TextSegment)
        text = lexicon.apply(seg.text) if lexicon is not None else seg.text
        parts = markup.pieces(readings.apply_readings(text, backend.language))
        seg_options = options
        if seg.rate is not None:
            seg_options = replace(options, rate=seg.rate * options.speed)
        chunk = backend.synthesize_sentence("".join(p.spoken for p in parts), seg_options)
        if chunk is not None:
            chunk = replace(chunk, words=tuple(markup.remap_words(chunk.words, parts)))
            gap = int(round(pending_silence * sample_rate))
            if gap:
                pieces.append(np.zeros(gap, dtype=np.float32))
                cursor += gap
            pending_silence = 0.0
            pieces.append(chunk.audio)
            spans.append((cursor, chunk))
            if sentence_start is None:
                sentence_start = cursor
            sentence_end = cursor + len(chunk.audio)
            cursor += len(chunk.audio)
        # Text the voice could not say still belongs in the caption sentence.
        sentence_parts.append(markup.written(seg.text))
        if seg.ends_sentence:
            if sentence_start is not None:
                sentences.append(Sentence(" ".join(sentence_parts), sentence_start, sentence_end))
            sentence_parts, sentence_start = [], None

    if not spans:
        raise ScriptError(
            f"voice {info.id!r} ({info.name}) pronounces nothing in this script; "
            "check that the script is written in the voice's language"
        )
    if pending_silence > 0:  # an explicit [pause] at the very end
        tail = int(round(pending_silence * sample_rate))
        pieces.append(np.zeros(tail, dtype=np.float32))
        cursor += tail

    sr = float(sample_rate)
    for offset, chunk in spans:
        t0 = offset / sr
        phones.extend(Phone(p.symbol, t0 + p.start, t0 + p.end) for p in chunk.phonemes)
        words.extend(Word(w.text, t0 + w.start, t0 + w.end) for w in chunk.words)
    audio = np.concatenate(pieces)
    audio.setflags(write=False)  # lets Utterance keep it without a copy
    return Utterance(
        audio=audio,
        sample_rate=int(sample_rate),
        phonemes=tuple(phones),
        words=tuple(words),
        sentences=tuple(Sentence(s.text, s.start / sr, s.end / sr) for s in sentences),
    )


def ipa_phonemes(text: str, *, voice: str = DEFAULT_VOICE, home: str | Path | None = None) -> list[str]:
    """IPA symbols a voice speaks for ``text``, as :class:`Phone` symbols.

    Runs the same espeak-ng synthesis as :func:`synthesize`, so the symbols
    match what an :class:`Utterance` of the same text contains. A Kokoro voice
    speaks espeak-ng en-us's phones, so its symbols come from that voice
    without running the neural model.

    Parameters
    ----------
    text : str
        Script text.
    voice : str, keyword-only
        As for :func:`synthesize`.
    home : str or Path, optional, keyword-only
        As for :func:`synthesize`: where a "piper:NAME" voice is looked up.

    Returns
    -------
    list of str
        One symbol per phone, in speaking order, pauses left out.
    """
    info = resolve_voice(voice, home=home)
    phones_from = engines.named(info.engine).phones_from
    return [p.symbol for p in synthesize(text, voice=phones_from or voice, home=home).phonemes]
