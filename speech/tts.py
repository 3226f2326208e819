"""Text to speech: script in, :class:`~speech.utterance.Utterance` out.

Each :class:`~speech.script.TextSegment` is synthesised on its own by the
voice's :class:`~speech.backend.VoiceBackend`, trimmed to its first and last
phone (espeak's own lead-in and tail are exact zeros, so nothing audible is
lost; Kokoro's are cut at its predicted phone boundaries with a 5 ms fade),
and the segments are joined with exact silences. That way every pause in the
result is the length the script asks for, whatever the voice.

Voices whose id starts with "kokoro:" are Kokoro-82M's (:mod:`speech.kokoro`);
all others are espeak-ng's (:class:`EspeakBackend`).
"""

from __future__ import annotations

import functools

import numpy as np

from podium.common.errors import ScriptError, UserInputError
from podium.speech import espeak
from dataclasses import replace

from podium.speech import markup, readings
from podium.speech.backend import SynthesisOptions, VoiceBackend, apply_gain
from podium.speech.espeak_timing import align
from podium.speech.script import PauseSegment, TextSegment, parse_script
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


@functools.lru_cache(maxsize=32)
def _kokoro_backend(voice_id: str) -> VoiceBackend:
    from podium.speech.kokoro import KokoroBackend, voice_for

    return KokoroBackend(voice_for(voice_id))


@functools.lru_cache(maxsize=8)
def _piper_backend(model: str) -> VoiceBackend:
    from pathlib import Path

    from podium.speech.piper import PiperBackend

    return PiperBackend(Path(model))


def backend_for(voice: str | VoiceInfo) -> VoiceBackend:
    """The backend that speaks ``voice``.

    Parameters
    ----------
    voice : str or VoiceInfo
        Anything :func:`speech.voices.resolve_voice` accepts, or its result.

    Returns
    -------
    VoiceBackend
        A :class:`speech.kokoro.KokoroBackend` for "kokoro:..." voices (one per
        voice and process, so its style vector is computed once), else an
        :class:`EspeakBackend`.

    Raises
    ------
    VoiceError
        Unknown voice, or a Kokoro voice without its packages.
    """
    info = voice if isinstance(voice, VoiceInfo) else resolve_voice(voice)
    if info.engine == "kokoro":
        return _kokoro_backend(info.id)
    if info.engine == "piper":
        return _piper_backend(info.identifier)
    return EspeakBackend(info)


def synthesize(script: str, *, voice: str = DEFAULT_VOICE, rate_wpm: int | None = None,
               pitch: float | None = None, lexicon=None) -> Utterance:
    """Speak a script.

    Parameters
    ----------
    script : str
        Script text; see :func:`speech.script.parse_script` for markup.
    voice : str, keyword-only
        A voice id from :func:`speech.voices.list_voices` ("en-us", "de",
        "fr-fr", "cmn", "ja", "kokoro:jm_kumo"...), or anything
        :func:`resolve_voice` accepts.
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
    info = resolve_voice(voice)
    rate = _check_rate(rate_wpm)
    segments = parse_script(script)
    if info.engine == "kokoro":
        from podium.speech.language_guess import MIN_ENGLISH_SHARE, english_share

        share = english_share(" ".join(markup.written(seg.text) for seg in segments
                                       if isinstance(seg, TextSegment)))
        if share is not None and share < MIN_ENGLISH_SHARE:
            raise ScriptError(
                f"this script does not look English ({share:.0%} English words), but "
                f"voice {info.id!r} speaks English only; choose a voice for the script's language, "
                "e.g. --voice de or --voice fr-fr (`podium voices --language de` lists them)")
    backend = backend_for(info)
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


def ipa_phonemes(text: str, *, voice: str = DEFAULT_VOICE) -> list[str]:
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

    Returns
    -------
    list of str
        One symbol per phone, in speaking order, pauses left out.
    """
    info = resolve_voice(voice)
    if info.engine == "kokoro":
        voice = "en-us"
    return [p.symbol for p in synthesize(text, voice=voice).phonemes]
