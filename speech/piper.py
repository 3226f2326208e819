"""Piper voices (``piper-tts``, VITS models in ONNX): natural speech, real time on a CPU.

A Piper voice is a model file plus its JSON config beside it (``voice.onnx`` and
``voice.onnx.json``), supplied by the user: nothing is downloaded. Give it as
``piper:/path/to/voice.onnx``, or drop both files into the library's ``voices/`` folder
(``$PODIUM_HOME/voices/`` unless a ``home`` is given) and use ``piper:voice``.

Timings: Piper's VITS graph computes each phoneme id's length in frames (its
``Ceil`` tensor); piper-tts exposes it as an extra output (the model is patched in
memory with ``onnx``), which gives every phone's start and end in samples. Words
are the runs of phones between Piper's word spaces, tied to the written words in
order. A model that cannot expose durations is timed from espeak-ng's rendition
of the same sentence, stretched over Piper's speech.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from podium.common.errors import UserInputError, VoiceError
from podium.common.files import default_home
from podium.speech import engines
from podium.speech.backend import SynthesisOptions, VoiceBackend
from podium.speech.engines import Engine, VoiceInfo
from podium.speech.espeak_engine import EspeakBackend, find_voice
from podium.speech.espeak_timing import written_tokens
from podium.speech.utterance import Phone, Sentence, Utterance, Word

NAME = "piper"
"""The engine's name in the registry (:attr:`speech.engines.VoiceInfo.engine`)."""
PREFIX = "piper:"
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 48000
_STRESS = "ˈˌ"
_LENGTH = "ːˑ"
_TIE = "\u0361\u035c"


def voices_folder(home: str | Path | None = None) -> Path:
    """``voices/`` in the library folder, where dropped-in voices live.

    Parameters
    ----------
    home : str or Path, optional
        The library folder; by default :func:`common.files.default_home`
        ($PODIUM_HOME, else the user's data directory).

    Returns
    -------
    Path
    """
    return Path(home if home is not None else default_home()) / "voices"


def find_model(spec: str, *, home: str | Path | None = None) -> Path:
    """The model file a ``piper:...`` voice id names.

    Parameters
    ----------
    spec : str
        "piper:/path/to/voice.onnx" (or a path without the prefix), or "piper:NAME"
        for ``NAME.onnx`` in :func:`voices_folder`.
    home : str or Path, optional, keyword-only
        The library folder whose ``voices/`` holds "piper:NAME"; by default
        :func:`common.files.default_home`.

    Returns
    -------
    Path

    Raises
    ------
    VoiceError
        No such file, or a name not found in the voices folder.
    """
    name = spec[len(PREFIX):] if spec.startswith(PREFIX) else spec
    if not name:
        raise VoiceError("give the Piper voice as piper:/path/to/voice.onnx or piper:NAME")
    path = Path(name).expanduser()
    if path.suffix != ".onnx" and not path.is_absolute() and os.sep not in name:
        path = voices_folder(home) / f"{name}.onnx"
    if not path.is_file():
        raise VoiceError(f"Piper voice not found: '{path}'; give the .onnx file (its .onnx.json beside "
                         f"it), or put both in {voices_folder(home)}")
    return path


def list_piper_voices(home: str | Path | None = None) -> list[Path]:
    """Model files in the voices folder that have their config beside them.

    Parameters
    ----------
    home : str or Path, optional
        The library folder whose ``voices/`` is listed; by default
        :func:`common.files.default_home`.

    Returns
    -------
    list of Path
        Sorted; empty when there is no voices folder.
    """
    folder = voices_folder(home)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.onnx") if Path(f"{p}.json").is_file())


def voice_info(model: Path, home: str | Path | None = None) -> VoiceInfo:
    """A Piper voice as a voice of the catalogue (:mod:`speech.voices`).

    Parameters
    ----------
    model : Path
        The ``.onnx`` file.
    home : str or Path, optional
        The library folder: a model in its ``voices/`` has the id "piper:STEM",
        any other "piper:" and its path. By default :func:`common.files.default_home`.

    Returns
    -------
    VoiceInfo
        Language "unknown" when the config cannot be read (the backend reports
        the bad config when the voice is used).
    """
    try:
        config = json.loads(Path(f"{model}.json").read_text("utf-8"))
        lang = str(config.get("language", {}).get("code") or config["espeak"]["voice"]).lower()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        lang = "unknown"  # the backend reports a bad config when the voice is used
    dropped = model.parent == voices_folder(home) and model.suffix == ".onnx"
    vid = f"{PREFIX}{model.stem if dropped else model}"
    return VoiceInfo(id=vid, name=f"Piper {model.stem} (neural)", languages=(lang.replace("_", "-"),),
                     gender="unknown", identifier=str(model), engine=NAME)


def _read_config(model: Path) -> dict:
    config = Path(f"{model}.json")
    if not config.is_file():
        alt = model.with_suffix(".json")
        if alt.is_file():
            config = alt
        else:
            raise VoiceError(f"Piper voice '{model.name}' has no config: '{config.name}' must be beside it "
                             "(download both files of the voice)")
    try:
        data = json.loads(config.read_text("utf-8"))
        rate = data["audio"]["sample_rate"]
        data["phoneme_id_map"], data["num_symbols"], data["espeak"]["voice"]
    except (ValueError, KeyError, TypeError) as exc:
        raise VoiceError(f"'{config.name}' is not a Piper voice config (missing or bad {exc}); "
                         "use the .onnx.json that came with the voice") from None
    if not isinstance(rate, int) or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise VoiceError(f"'{config.name}' gives sample rate {rate!r}; a Piper voice has "
                         f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz (usually 16000 or 22050)")
    if data.get("phoneme_type", "espeak") not in ("espeak", "text"):
        raise VoiceError(f"Piper voice '{model.name}' uses phoneme type {data['phoneme_type']!r}; "
                         "Podium supports espeak and text voices")
    return data


def _phones_from_alignments(alignments) -> tuple[list[tuple[str, int, int]], list[list[int]]]:
    """(symbol, start, end) in samples per phone, and the phones of each word.

    Piper aligns single IPA characters; a length mark joins the phone before it,
    a tie bar joins two characters, stress marks and punctuation take time but
    are not phones, and a space ends a word.
    """
    phones: list[list] = []
    words: list[list[int]] = [[]]
    cursor = 0
    joining = False
    carry: int | None = None
    for a in alignments:
        sym, n = a.phoneme, int(a.num_samples)
        start, end = cursor, cursor + n
        cursor = end
        if sym == " ":
            carry = None
            if words[-1]:
                words.append([])
            continue
        if sym in _LENGTH or (joining and phones):
            if phones:
                phones[-1][0] += sym if sym not in _TIE else ""
                phones[-1][2] = end
            joining = False
            continue
        if sym in _TIE:
            joining = True
            if phones:
                phones[-1][2] = end
            continue
        if sym in _STRESS:
            # A stress mark's time belongs to the syllable it marks: no gap inside a word.
            carry = start if carry is None else carry
            continue
        if not (sym.isalpha() or ord(sym) > 0x250):
            carry = None
            continue  # BOS/EOS/pad and punctuation: pauses
        phones.append([sym, start if carry is None else carry, end])
        carry = None
        words[-1].append(len(phones) - 1)
    return [tuple(p) for p in phones], [w for w in words if w]


class PiperBackend(VoiceBackend):
    """One Piper voice model.

    Parameters
    ----------
    model : Path
        The ``.onnx`` file; its ``.onnx.json`` config must be beside it.

    Raises
    ------
    VoiceError
        Missing or bad config, a sample rate out of range, a file onnxruntime
        cannot load, or piper-tts not installed.
    """

    def __init__(self, model: Path) -> None:
        self.model = Path(model)
        config = _read_config(self.model)
        try:
            from piper import PiperVoice
        except ImportError:
            raise VoiceError("Piper voices need the piper-tts package: pip install piper-tts") from None
        try:
            import onnx  # noqa: F401 - lets piper expose phone durations from any VITS voice

            alignments = True
        except ImportError:
            alignments = False
        try:
            self.voice = PiperVoice.load(self.model, config_path=self._config_path(), include_alignments=alignments)
        except Exception as exc:  # onnxruntime raises its own types for a damaged model
            raise VoiceError(f"'{self.model.name}' is not a Piper voice model onnxruntime can load "
                             f"({type(exc).__name__}); download the voice again") from None
        self.id = f"{PREFIX}{self.model}"
        self.language = config["espeak"]["voice"]
        self.sample_rate = int(config["audio"]["sample_rate"])

    def _config_path(self) -> Path:
        p = Path(f"{self.model}.json")
        return p if p.is_file() else self.model.with_suffix(".json")

    def synthesize_sentence(self, text: str, options: SynthesisOptions = SynthesisOptions()) -> Utterance | None:
        """Speak one sentence; see :meth:`VoiceBackend.synthesize_sentence`.

        ``options.rate`` scales Piper's length scale (2.0 = twice as fast);
        ``options.pitch`` is not supported by Piper models.
        """
        from piper import SynthesisConfig

        if options.pitch not in (None, 1.0):
            raise UserInputError(f"Piper voices cannot change pitch (got {options.pitch}); leave it out")
        syn = SynthesisConfig(length_scale=None if options.rate is None else
                              self.voice.config.length_scale / options.speed,
                              volume=options.gain, normalize_audio=True)
        try:
            chunks = list(self.voice.synthesize(text, syn_config=syn, include_alignments=True))
        except Exception as exc:
            raise VoiceError(f"Piper voice '{self.model.name}' failed on {text[:40]!r}: "
                             f"{type(exc).__name__}: {exc}") from None
        if not chunks:
            return None
        audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        timed: list[tuple[str, int, int]] = []
        groups: list[list[int]] = []
        offset = 0
        for c in chunks:
            if c.phoneme_alignments is None:
                timed, groups = [], []
                break
            ph, wd = _phones_from_alignments(c.phoneme_alignments)
            base = len(timed)
            timed += [(s, a + offset, b + offset) for s, a, b in ph]
            groups += [[base + i for i in w] for w in wd]
            offset += len(c.audio_float_array)
        if not timed:
            timed, groups = self._timed_by_espeak(text, audio)
        if not timed:
            return None
        # Trim to the first and last phone, like every other backend.
        lo, hi = timed[0][1], max(b for _, _, b in timed)
        audio = audio[lo:hi]
        sr = float(self.sample_rate)
        phones = tuple(Phone(s, (a - lo) / sr, (b - lo) / sr) for s, a, b in timed if b > a)
        written = [text[a:b] for a, b in written_tokens(text) if any(ch.isalnum() for ch in text[a:b])]
        spans = [((timed[g[0]][1] - lo) / sr, (timed[g[-1]][2] - lo) / sr) for g in groups]
        words = tuple(Word(w, s, e) for w, (s, e) in zip(written, _match_words(len(written), spans)))
        return Utterance(np.ascontiguousarray(audio), self.sample_rate, phones, words,
                         (Sentence(text, 0.0, len(audio) / sr),))

    def _timed_by_espeak(self, text: str, audio: np.ndarray):
        """Phones from espeak-ng's rendition of ``text``, stretched over Piper's speech."""
        info = find_voice(self.language)
        if info is None:
            raise VoiceError(f"unknown voice {self.language!r}; run `podium voices` to list them")
        ref = EspeakBackend(info).synthesize_sentence(text)
        if ref is None or not ref.phonemes:
            return [], []
        loud = np.flatnonzero(np.abs(audio) > 0.02 * max(np.abs(audio).max(), 1e-6))
        if loud.size == 0:
            return [], []
        a0, a1 = int(loud[0]), int(loud[-1]) + 1
        scale = (a1 - a0) / (ref.duration * self.sample_rate)
        at = lambda t: a0 + int(round(t * self.sample_rate * scale))
        timed = [(p.symbol, at(p.start), at(p.end)) for p in ref.phonemes]
        groups = []
        for w in ref.words:
            idx = [i for i, p in enumerate(ref.phonemes) if p.start >= w.start - 1e-6 and p.end <= w.end + 1e-6]
            if idx:
                groups.append(idx)
        return timed, groups


def _match_words(n_written: int, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Times for ``n_written`` written words from the spoken word spans: one to one when
    the counts agree, else the written words share the speech in proportion."""
    if not spans:
        return [(0.0, 0.0)] * n_written
    if len(spans) == n_written:
        return spans
    lo, hi = spans[0][0], spans[-1][1]
    step = (hi - lo) / max(n_written, 1)
    return [(lo + i * step, lo + (i + 1) * step) for i in range(n_written)]


# --- the engine ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _backend(model: str) -> PiperBackend:
    # One per model file and process: loading a model takes a while. The path alone is the
    # key; which library it was found in does not change the voice.
    return PiperBackend(Path(model))


ENGINE = engines.register(Engine(
    name=NAME,
    prefix=PREFIX,
    voices=lambda home: [voice_info(m, home) for m in list_piper_voices(home)],
    resolve=lambda voice, home: voice_info(find_model(voice.strip(), home=home), home),
    backend=lambda info: _backend(info.identifier),
))
