"""ctypes binding to the espeak-ng library shipped by ``espeakng-loader``.

Only the handful of calls Podium needs are bound: initialise, list voices,
select a voice, set the rate and synthesise one piece of text in synchronous
mode while collecting the audio and the events espeak reports.

espeak-ng keeps all its state in globals (current voice, parameters, the one
synth callback), so every call here goes through :data:`_LOCK`.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from podium.common.errors import InternalError

# Values from espeak-ng's speak_lib.h (1.52).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
# Without this espeak calls exit() on a fatal error and takes the process down.
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEME_INPUT = 0x100  # espeakPHONEMES: [[...]] holds phoneme names
_PARAM_RATE = 1
_PARAM_PITCH = 3
_EE_OK = 0

EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_SENTENCE = 2
EVENT_END = 5
EVENT_MSG_TERMINATED = 6
EVENT_PHONEME = 7
EVENT_SAMPLERATE = 8

DEFAULT_RATE_WPM = 175
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450
DEFAULT_PITCH = 50
"""espeak's base pitch parameter, 0..100."""


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        # Phoneme names, UTF-8, zero-terminated unless all 8 bytes are used.
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        # Not a C string: (priority byte, zero-terminated code)* then a 0 byte.
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class RawEvent:
    """One event as espeak reported it.

    Attributes
    ----------
    kind : int
        ``EVENT_WORD``, ``EVENT_PHONEME``, ``EVENT_SENTENCE``, ``EVENT_END``...
    sample : int
        Position in the synthesised audio, in samples from its first sample.
    text_position : int
        For word and sentence events: 1-based index, in Unicode code points,
        of the first character in the synthesised text. 0 otherwise.
    length : int
        For word events: the word's length in code points.
    name : str
        For phoneme events: the IPA name ("" for a pause). "" otherwise.
    """

    kind: int
    sample: int
    text_position: int
    length: int
    name: str


@dataclass(frozen=True)
class RawSynthesis:
    """Audio and events of one ``espeak_Synth`` call.

    Attributes
    ----------
    samples : numpy.ndarray
        int16 mono, shape (n_samples,).
    sample_rate : int
        Hz.
    events : tuple of RawEvent
        In the order espeak emitted them.
    """

    samples: np.ndarray
    sample_rate: int
    events: tuple[RawEvent, ...]


@dataclass(frozen=True)
class RawVoice:
    """One entry of ``espeak_ListVoices``.

    Attributes
    ----------
    name : str
        Human name, e.g. "German".
    identifier : str
        File name under espeak-ng-data/lang, e.g. "gmw/de"; always accepted by
        ``espeak_SetVoiceByName`` (short codes like "en-gb" are not).
    languages : tuple of (int, str)
        (priority, code) pairs; a lower priority number is a better match.
    gender : int
        0 unknown, 1 male, 2 female.
    """

    name: str
    identifier: str
    languages: tuple[tuple[int, str], ...]
    gender: int


class _Engine:
    """The initialised library plus the buffers the callback fills."""

    def __init__(self) -> None:
        import espeakng_loader

        self.data_path = espeakng_loader.get_data_path()
        try:
            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as exc:
            raise InternalError(
                f"cannot load the espeak-ng library {espeakng_loader.get_library_path()!r}: "
                f"{exc}; reinstall the espeakng-loader package"
            ) from exc
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))

        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, self.data_path.encode(), options
        )
        if rate <= 0:
            raise InternalError(
                f"espeak-ng failed to initialise with data {self.data_path!r} (code {rate}); "
                "reinstall the espeakng-loader package"
            )
        self.sample_rate = rate
        self._chunks: list[bytes] = []
        self._events: list[RawEvent] = []
        # Kept on self: ctypes frees the trampoline when the Python object dies.
        self._callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, n_samples, events) -> int:
        i = 0
        while True:
            ev = events[i]
            if ev.type == EVENT_LIST_TERMINATED:
                break
            name = ""
            if ev.type == EVENT_PHONEME:
                # A name that fills all 8 bytes may be cut inside a UTF-8 sequence.
                name = ev.id.string.decode("utf-8", errors="ignore")
            self._events.append(
                RawEvent(ev.type, ev.sample, ev.text_position, ev.length, name)
            )
            i += 1
        if wav and n_samples > 0:
            self._chunks.append(ctypes.string_at(wav, n_samples * 2))
        return 0  # 0 = keep going

    def synth(self, text: str, identifier: str, rate_wpm: int, pitch: int, *,
              phonemes: bool = False) -> RawSynthesis:
        if self.lib.espeak_SetVoiceByName(identifier.encode()) != _EE_OK:
            raise InternalError(
                f"espeak-ng rejected voice file {identifier!r}; reinstall espeakng-loader"
            )
        self.lib.espeak_SetParameter(_PARAM_RATE, int(rate_wpm), 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
        data = text.encode("utf-8")
        buf = ctypes.create_string_buffer(data)
        self._chunks, self._events = [], []
        try:
            code = self.lib.espeak_Synth(
                buf, len(data) + 1, 0, _POS_CHARACTER, 0,
                _CHARS_UTF8 | (_PHONEME_INPUT if phonemes else 0), None, None
            )
            if code != _EE_OK:
                raise InternalError(f"espeak-ng failed to synthesise {text[:60]!r} (code {code})")
            samples = np.frombuffer(b"".join(self._chunks), dtype=np.int16).copy()
            return RawSynthesis(samples, self.sample_rate, tuple(self._events))
        finally:
            self._chunks, self._events = [], []

    def voices(self) -> list[RawVoice]:
        out = []
        table = self.lib.espeak_ListVoices(None)
        i = 0
        while table[i]:
            v = table[i].contents
            langs = []
            p = v.languages
            while p is not None:
                priority = ctypes.c_ubyte.from_address(p).value
                if priority == 0:
                    break
                code = ctypes.string_at(p + 1)
                langs.append((priority, code.decode("utf-8", errors="replace")))
                p += len(code) + 2
            out.append(
                RawVoice(
                    name=v.name.decode("utf-8", errors="replace").strip(),
                    identifier=v.identifier.decode("utf-8", errors="replace"),
                    languages=tuple(langs),
                    gender=int(v.gender),
                )
            )
            i += 1
        return out


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    # Caller holds _LOCK.
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def synth(text: str, *, identifier: str, rate_wpm: int = DEFAULT_RATE_WPM,
          pitch: int = DEFAULT_PITCH) -> RawSynthesis:
    """Synthesise ``text`` with one voice.

    Parameters
    ----------
    text : str
        Plain text; ``[[IPA]]`` blocks are spoken as those sounds (see
        :mod:`speech.phonetic`). No SSML.
    identifier : str
        espeak voice identifier, e.g. "gmw/en-US" (see :class:`RawVoice`).
    rate_wpm : int, keyword-only
        Speaking rate in words per minute, ``MIN_RATE_WPM``..``MAX_RATE_WPM``.
    pitch : int, keyword-only
        Base pitch, 0..100; espeak's 50 by default.

    Returns
    -------
    RawSynthesis
        int16 audio at espeak's rate (22050 Hz) and the events.
    """
    from podium.speech.phonetic import BLOCK, to_espeak

    if BLOCK.search(text) is None:
        with _LOCK:
            return _engine().synth(text, identifier, rate_wpm, pitch)
    # IPA blocks: espeak reads its own phoneme names; word positions are mapped back
    # to ``text`` so callers can cut the written words from what they passed in.
    converted, origin = to_espeak(text)
    with _LOCK:
        raw = _engine().synth(converted, identifier, rate_wpm, pitch, phonemes=True)
    events = tuple(
        RawEvent(e.kind, e.sample, origin[min(e.text_position - 1, len(origin) - 1)] + 1 if e.text_position else 0,
                 e.length, e.name)
        for e in raw.events
    )
    return RawSynthesis(raw.samples, raw.sample_rate, events)


def voices() -> list[RawVoice]:
    """Every voice espeak-ng lists, in its order."""
    with _LOCK:
        return _engine().voices()


def sample_rate() -> int:
    """Hz of the audio espeak-ng makes (22050)."""
    with _LOCK:
        return _engine().sample_rate


def data_path() -> str:
    """Directory of espeak-ng's data files."""
    with _LOCK:
        return _engine().data_path
