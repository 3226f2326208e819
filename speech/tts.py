"""Text to speech: script in, :class:`~speech.utterance.Utterance` out.

Each :class:`~speech.script.TextSegment` is synthesised on its own, trimmed to
its first and last phone (espeak's own lead-in and tail are exact zeros, so
nothing audible is lost), and the segments are joined with exact silences.
That way every pause in the result is the length the script asks for.
"""

from __future__ import annotations

import numpy as np

from common.errors import ScriptError, UserInputError
from speech import espeak
from speech.espeak_timing import AlignedText, align
from speech.script import PauseSegment, TextSegment, parse_script
from speech.utterance import Phone, Sentence, Utterance, Word
from speech.voices import DEFAULT_VOICE, resolve_voice


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


def synthesize(script: str, *, voice: str = DEFAULT_VOICE, rate_wpm: int | None = None) -> Utterance:
    """Speak a script with espeak-ng.

    Parameters
    ----------
    script : str
        Script text; see :func:`speech.script.parse_script` for markup.
    voice : str, keyword-only
        A voice id from :func:`speech.voices.list_voices` ("en-us", "de",
        "fr-fr", "cmn", "ja"...), or anything :func:`resolve_voice` accepts.
    rate_wpm : int, optional, keyword-only
        Speaking rate in words per minute, 80..450; espeak's 175 by default.
        Pauses do not scale with it.

    Returns
    -------
    Utterance
        22050 Hz float32 audio with phone, word and sentence timings.

    Raises
    ------
    ScriptError
        Empty script, bad markup, or nothing the voice can pronounce.
    VoiceError
        Unknown voice.
    UserInputError
        ``rate_wpm`` out of range.
    """
    info = resolve_voice(voice)
    rate = _check_rate(rate_wpm)
    segments = parse_script(script)

    sample_rate = None
    pieces: list[np.ndarray] = []
    phones: list[Phone] = []
    words: list[Word] = []
    sentences: list[Sentence] = []
    cursor = 0  # samples written so far
    pending_silence = 0.0
    sentence_parts: list[str] = []
    sentence_start: int | None = None
    sentence_end = 0
    spans: list[tuple[int, int, AlignedText]] = []  # (offset, n, aligned)

    for seg in segments:
        if isinstance(seg, PauseSegment):
            pending_silence += seg.seconds
            continue
        assert isinstance(seg, TextSegment)
        raw = espeak.synth(seg.text, identifier=info.identifier, rate_wpm=rate)
        sample_rate = raw.sample_rate
        aligned = align(seg.text, raw)
        if aligned is not None:
            gap = int(round(pending_silence * sample_rate))
            if gap:
                pieces.append(np.zeros(gap, dtype=np.int16))
                cursor += gap
            pending_silence = 0.0
            pieces.append(aligned.samples)
            spans.append((cursor, len(aligned.samples), aligned))
            if sentence_start is None:
                sentence_start = cursor
            sentence_end = cursor + len(aligned.samples)
            cursor += len(aligned.samples)
        # Text espeak could not say still belongs in the caption sentence.
        sentence_parts.append(seg.text)
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
        pieces.append(np.zeros(tail, dtype=np.int16))
        cursor += tail

    sr = float(sample_rate)
    for offset, _, aligned in spans:
        phones.extend(Phone(p.label, (offset + p.start) / sr, (offset + p.end) / sr) for p in aligned.phones)
        words.extend(Word(w.label, (offset + w.start) / sr, (offset + w.end) / sr) for w in aligned.words)
    audio = np.concatenate(pieces).astype(np.float32) / np.float32(32768.0)
    audio.setflags(write=False)  # lets Utterance keep it without a copy
    return Utterance(
        audio=audio,
        sample_rate=int(sample_rate),
        phonemes=tuple(phones),
        words=tuple(words),
        sentences=tuple(Sentence(s.text, s.start / sr, s.end / sr) for s in sentences),
    )


def ipa_phonemes(text: str, *, voice: str = DEFAULT_VOICE) -> list[str]:
    """IPA symbols espeak-ng speaks for ``text``, as :class:`Phone` symbols.

    Runs the same synthesis as :func:`synthesize`, so the symbols match what
    an :class:`Utterance` of the same text contains.

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
    return [p.symbol for p in synthesize(text, voice=voice).phonemes]
