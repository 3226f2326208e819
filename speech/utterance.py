"""Records of synthesised speech: audio plus phone, word and sentence timings.

All times are seconds from the first audio sample.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podium.common.errors import InternalError, UserInputError
from podium.common.files import atomic_path


@dataclass(frozen=True)
class Phone:
    """One phoneme as espeak-ng spoke it.

    Attributes
    ----------
    symbol : str
        IPA symbol(s) from espeak-ng without stress marks, e.g. "p", "aɪ", "ə",
        "ɜː". Language-dependent; pauses never appear as a Phone.
    start, end : float
        Seconds, ``start < end``.
    """

    symbol: str
    start: float
    end: float


@dataclass(frozen=True)
class Word:
    """One written word of the script with the time it is spoken.

    Attributes
    ----------
    text : str
        The word as written, without surrounding punctuation ("it's",
        "well-known", "$5.50"). In scripts without spaces (Chinese, Japanese)
        a word is what espeak-ng treats as one.
    start, end : float
        Seconds, ``start <= end`` (equal only for a written word espeak-ng
        did not speak).
    """

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Sentence:
    """One sentence of the script, for captions.

    Attributes
    ----------
    text : str
        The sentence as written, punctuation kept, markup removed, runs of
        whitespace collapsed to one space.
    start, end : float
        Seconds from its first phone's start to its last phone's end.
    """

    text: str
    start: float
    end: float


@dataclass(frozen=True, eq=False)
class Utterance:
    """Synthesised speech and its timings.

    ``eq=False`` because numpy arrays do not compare to a single bool.

    Attributes
    ----------
    audio : numpy.ndarray
        float32 mono, shape (n_samples,), range [-1, 1]. Read-only.
    sample_rate : int
        Hz (espeak-ng gives 22050).
    phonemes : tuple of Phone
        Sorted and non-overlapping; silences are gaps with no Phone.
    words : tuple of Word
        In script order, sorted and non-overlapping.
    sentences : tuple of Sentence
        In script order, sorted and non-overlapping.
    """

    audio: np.ndarray
    sample_rate: int
    phonemes: tuple[Phone, ...]
    words: tuple[Word, ...]
    sentences: tuple[Sentence, ...]

    def __repr__(self) -> str:
        text = " ".join(s.text for s in self.sentences)
        text = text if len(text) <= 40 else text[:39] + "…"
        return (f"Utterance({len(self.audio) / self.sample_rate:.2f} s at {self.sample_rate} Hz, "
                f"{len(self.phonemes)} phones, {len(self.words)} words, {text!r})")

    def __post_init__(self) -> None:
        audio = np.asarray(self.audio)
        if audio.ndim != 1 or not np.issubdtype(audio.dtype, np.floating):
            raise InternalError(
                f"Utterance audio must be float32 of shape (n_samples,), "
                f"got {audio.dtype} of shape {audio.shape}"
            )
        if self.sample_rate <= 0:
            raise InternalError(f"Utterance sample_rate must be positive, got {self.sample_rate}")
        if audio.dtype != np.float32 or audio.flags.writeable:
            # A frozen record should not have mutable audio under it.
            audio = audio.astype(np.float32, copy=True)
            audio.setflags(write=False)
        object.__setattr__(self, "audio", audio)

    @property
    def duration(self) -> float:
        """Length of the audio in seconds, ``len(audio) / sample_rate``."""
        return len(self.audio) / self.sample_rate

    def write_wav(self, path: str | os.PathLike) -> None:
        """Write the audio as a 16-bit PCM WAV file.

        The file is written to a temporary name in the same directory and then
        renamed, so a crash never leaves a half-written file at ``path``.

        Parameters
        ----------
        path : str or PathLike
            Destination; its directory must exist.
        """
        import soundfile

        path = Path(path)
        if not path.parent.is_dir():
            raise UserInputError(
                f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist; "
                "create it first"
            )
        with atomic_path(path) as tmp:
            soundfile.write(str(tmp), self.audio, self.sample_rate, subtype="PCM_16", format="WAV")
