"""What every speech engine offers Podium: a voice that turns text into timed speech.

Modelled on piper's ``PiperVoice``: a voice object with an id, a language and
a sample rate; per-call options in a small frozen dataclass where ``None``
means "the voice's default"; synthesis that streams one chunk per sentence,
each chunk carrying its audio *and* its phone and word timings.

A chunk is an :class:`~speech.utterance.Utterance` of one sentence (or of the
part of one between two ``[pause]`` markups), trimmed to its first and last
phone: times start at 0 and silences before and after belong to whoever joins
the chunks. :func:`speech.tts.synthesize` joins them with the exact pauses the
script asks for; :meth:`VoiceBackend.synthesize_text` joins plain text's
sentences with :attr:`SynthesisOptions.sentence_pause_s`.

Implementations: :class:`speech.tts.EspeakBackend` (espeak-ng, 100+
languages) and :class:`speech.kokoro.KokoroBackend` (Kokoro-82M, English).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from podium.common.errors import ScriptError, UserInputError
from podium.speech.script import MAX_PAUSE_S, SENTENCE_PAUSE_S, split_sentences
from podium.speech.utterance import Phone, Sentence, Utterance, Word

MIN_RATE = 0.25
MAX_RATE = 4.0
"""Bounds any ``SynthesisOptions.rate`` must meet; each engine narrows them (espeak-ng
80..450 words per minute, i.e. 0.46..2.57; Kokoro 0.5..2.0)."""
MAX_VOLUME = 4.0


@dataclass(frozen=True)
class SynthesisOptions:
    """Per-call options; ``None`` means the voice's default.

    Attributes
    ----------
    rate : float or None
        Speaking rate relative to the voice's normal one (0.5 = half as fast).
        Pauses do not scale with it. espeak-ng's normal rate is 175 words per
        minute and it takes 0.46..2.57 (80..450 wpm); Kokoro takes 0.5..2.0.
    pitch : float or None
        Base pitch relative to the voice's, 0.25..2.0. espeak-ng only; a Kokoro
        voice raises :class:`UserInputError` for anything but ``None`` or 1.0.
    volume : float or None
        Linear gain on the audio, 0..``MAX_VOLUME`` (1.0 = as the voice speaks);
        the result is clipped to [-1, 1].
    sentence_pause_s : float or None
        Seconds of silence between sentences in
        :meth:`VoiceBackend.synthesize_text`, 0..10; default
        :data:`speech.script.SENTENCE_PAUSE_S`. Scripts given to
        :func:`speech.synthesize` get their pauses from the script instead.

    Raises
    ------
    UserInputError
        A value out of range or not a number.
    """

    rate: float | None = None
    pitch: float | None = None
    volume: float | None = None
    sentence_pause_s: float | None = None

    def __post_init__(self) -> None:
        limits = {
            "rate": (MIN_RATE, MAX_RATE),
            "pitch": (0.25, 2.0),
            "volume": (0.0, MAX_VOLUME),
            "sentence_pause_s": (0.0, MAX_PAUSE_S),
        }
        for name, (lo, hi) in limits.items():
            value = getattr(self, name)
            if value is None:
                continue
            ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not lo <= value <= hi:
                raise UserInputError(
                    f"synthesis option {name}={value!r} is out of range; give a number from "
                    f"{lo:g} to {hi:g}, or None for the voice's default"
                )

    @property
    def speed(self) -> float:
        """``rate``, or 1.0 when it is None."""
        return 1.0 if self.rate is None else float(self.rate)

    @property
    def gain(self) -> float:
        """``volume``, or 1.0 when it is None."""
        return 1.0 if self.volume is None else float(self.volume)


def apply_gain(audio: np.ndarray, gain: float) -> np.ndarray:
    """float32 ``audio * gain`` clipped to [-1, 1]; ``audio`` itself when ``gain`` is 1."""
    if gain == 1.0:
        return audio
    return np.clip(np.asarray(audio, np.float32) * np.float32(gain), -1.0, 1.0).astype(np.float32)


class VoiceBackend(ABC):
    """One voice of one speech engine.

    Attributes
    ----------
    id : str
        What ``speech.synthesize(voice=...)`` takes, e.g. "en-us" or "kokoro:jm_kumo".
    language : str
        Language code the voice speaks, e.g. "en-us".
    sample_rate : int
        Hz of the audio it makes (espeak-ng 22050, Kokoro 24000).
    """

    id: str
    language: str
    sample_rate: int

    @abstractmethod
    def synthesize_sentence(self, text: str, options: SynthesisOptions = SynthesisOptions()) -> Utterance | None:
        """Speak one sentence, or the part of one between two pauses.

        Parameters
        ----------
        text : str
            Plain text without markup, whitespace collapsed.
        options : SynthesisOptions

        Returns
        -------
        Utterance or None
            Audio at :attr:`sample_rate`, trimmed so that time 0 is the first
            phone's start and the audio ends with the last phone; phones and
            written words with their times; ``sentences`` holds ``text`` once.
            None when the voice pronounces nothing in ``text``.
        """

    def chunks(self, text: str, options: SynthesisOptions = SynthesisOptions()) -> Iterator[Utterance]:
        """Speak plain text sentence by sentence, as it is synthesised.

        Parameters
        ----------
        text : str
            Plain text (no ``[pause]`` markup); split with
            :func:`speech.script.split_sentences`.
        options : SynthesisOptions

        Yields
        ------
        Utterance
            One per sentence the voice pronounces, as :meth:`synthesize_sentence`
            returns it.
        """
        for sentence in split_sentences(text):
            chunk = self.synthesize_sentence(sentence, options)
            if chunk is not None:
                yield chunk

    def synthesize_text(self, text: str, options: SynthesisOptions = SynthesisOptions()) -> Utterance:
        """Speak plain text in one piece: the chunks joined by ``options.sentence_pause_s``.

        Parameters
        ----------
        text : str
            Plain text without markup.
        options : SynthesisOptions

        Returns
        -------
        Utterance
            Starts with the first phone and ends with the last.

        Raises
        ------
        ScriptError
            The voice pronounces nothing in ``text``.
        """
        pause = SENTENCE_PAUSE_S if options.sentence_pause_s is None else float(options.sentence_pause_s)
        pieces: list[np.ndarray] = []
        phones: list[Phone] = []
        words: list[Word] = []
        sentences: list[Sentence] = []
        cursor = 0
        gap = np.zeros(int(round(pause * self.sample_rate)), np.float32)
        for chunk in self.chunks(text, options):
            if pieces:
                pieces.append(gap)
                cursor += len(gap)
            t0 = cursor / self.sample_rate
            phones.extend(Phone(p.symbol, p.start + t0, p.end + t0) for p in chunk.phonemes)
            words.extend(Word(w.text, w.start + t0, w.end + t0) for w in chunk.words)
            sentences.extend(Sentence(s.text, s.start + t0, s.end + t0) for s in chunk.sentences)
            pieces.append(chunk.audio)
            cursor += len(chunk.audio)
        if not pieces:
            raise ScriptError(f"voice {self.id!r} pronounces nothing in {text[:60]!r}")
        return Utterance(np.concatenate(pieces), self.sample_rate, tuple(phones), tuple(words),
                         tuple(sentences))
