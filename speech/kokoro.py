"""Kokoro-82M voices: natural English speech with exact phone and word timings.

How a sentence is spoken:

1. espeak-ng (en-us) synthesises the sentence once, silently. Its phoneme
   events give the phones (IPA, stress marks included) and where words and
   clause pauses fall; :func:`speech.espeak_timing.align` ties them to the
   written words. These are the phones the Utterance reports, so lipsync sees
   exactly the symbols an espeak-ng voice gives.
2. Each phone is written in the phoneme set Kokoro was trained on (misaki's:
   "oʊ" -> "O", "dʒ" -> "ʤ", "ɚ" -> "əɹ", American "ɜː" -> "ɜɹ", length marks
   dropped; see :func:`kokoro_symbols`); words are separated by spaces and
   clause pauses by the punctuation the text has there. Characters not in
   Kokoro's vocabulary are dropped.
3. The tokens go to the model in pieces of at most
   :data:`speech.kokoro_model.MAX_TOKENS`, cut at clause, else word, boundaries.
   The model returns the audio and each token's duration in frames of 25 ms
   (:mod:`speech.kokoro_model` exposes that tensor). A phone lasts as long as
   its tokens, with every boundary moved :data:`LEAD_FRAMES` (75 ms) earlier:
   the sound runs that far ahead of the summed durations (the offset Kokoro's
   own timestamps use, and what forced alignment of its audio finds). Between
   two words the space or punctuation is shared: where the audio pauses there,
   the words stop and start at the pause's edges (the model gives a phone
   before a comma the comma's silence too); elsewhere it is split half and half.
   The first phone starts where the sound starts and the last ends where it
   stops (see :func:`_phone_times`).
4. The audio is trimmed to the first phone's start and the last phone's end,
   like espeak-ng's, so pauses between sentences are exactly the script's.

Measured with ``benchmarks/voices.py`` (20 sentences, 2-core x86 CPU under
load from other work): pocketsphinx en-us WER jm_kumo 0.14, blend-kumo-nezumi
0.15, jf_gongitsune 0.27, jf_nezumi 0.38 (espeak-ng en-us 0.85); word starts
and ends within 25-30 ms on average of pocketsphinx forced alignment on the
same audio (espeak-ng: 23 ms); synthesis about 0.2 s per second of speech on
a quiet CPU and 0.7 under a load average of 6; loading the model about 1 s
once per process (plus 1 s to assemble the cache the first time).
Speaking misaki's phoneme set rather than espeak's raw IPA lowered WER from
0.175 to 0.14 (jm_kumo) and 0.275 to 0.265 (jf_gongitsune).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from podium.common.errors import InternalError, UserInputError, VoiceError
from podium.speech import engines, espeak, kokoro_model
from podium.speech.backend import SynthesisOptions, VoiceBackend, apply_gain
from podium.speech.engines import Engine, VoiceInfo
from podium.speech.espeak_timing import align, clean_phone
from podium.speech.kokoro_model import SAMPLE_RATE
from podium.speech.utterance import Phone, Sentence, Utterance, Word

NAME = "kokoro"
"""The engine's name in the registry (:attr:`speech.engines.VoiceInfo.engine`)."""
PREFIX = "kokoro:"
PHONEMIZER_VOICE = "gmw/en-US"
"""espeak-ng voice file whose phonemes Kokoro speaks."""
FADE_S = 0.005
"""Fade at each end of a trimmed sentence, so a cut never clicks."""
LEAD_FRAMES = 3.0
"""The audio runs this many duration frames ahead of the cumulative durations."""
SPACE_TO_PREVIOUS = 0.5
"""Share of a space token's time given to the word before it (the rest to the word after)."""
MIN_SPEED = 0.5
MAX_SPEED = 2.0
"""Rates (times the normal one) Kokoro is given; it garbles speech beyond them."""
PAUSE_MIN_S = 0.05
"""A quiet run at least this long between two words is a pause (no phone in it)."""
QUIET_DB = 35.0
"""Audio this many dB under the sentence's loud level (95th percentile of 10 ms frames) is quiet."""
EDGE_MARGIN = 240
"""Samples (10 ms) of quiet kept beside speech where a phone is cut back at a pause."""


@dataclass(frozen=True)
class KokoroVoice:
    """A Kokoro voice: a style vector, or a weighted sum of several.

    Attributes
    ----------
    name : str
        What follows "kokoro:" in the voice id, e.g. "jm_kumo".
    mix : tuple of (str, float)
        (style name in ``voices_ja.npz``, weight); weights sum to 1.
    gender : str
        "male", "female" or "unknown".
    description : str
        Human name for listings.
    """

    name: str
    mix: tuple[tuple[str, float], ...]
    gender: str
    description: str

    @property
    def id(self) -> str:
        return PREFIX + self.name


VOICES: dict[str, KokoroVoice] = {
    v.name: v
    for v in (
        KokoroVoice("jf_gongitsune", (("jf_gongitsune", 1.0),), "female", "Kokoro Gongitsune (neural)"),
        KokoroVoice("jm_kumo", (("jm_kumo", 1.0),), "male", "Kokoro Kumo (neural)"),
        KokoroVoice("jf_nezumi", (("jf_nezumi", 1.0),), "female", "Kokoro Nezumi (neural)"),
        KokoroVoice("blend-kumo-nezumi", (("jm_kumo", 0.5), ("jf_nezumi", 0.5)), "unknown",
                    "Kokoro Kumo + Nezumi blend (neural)"),
    )
}
"""The Kokoro voices Podium offers. The model's other two styles are left out:
in English they are hard to understand (pocketsphinx WER jf_alpha 0.76,
jf_tebukuro 0.58 against 0.14-0.38 for these; ``benchmarks/voices.py --extra``)."""


def voice_for(voice_id: str) -> KokoroVoice:
    """The Kokoro voice a "kokoro:NAME" id names (case-insensitive).

    Raises
    ------
    VoiceError
        No such Kokoro voice; the message lists them.
    """
    def norm(name: str) -> str:
        return name.strip().lower().replace("_", "-")

    want = norm(voice_id)[len(PREFIX):] if isinstance(voice_id, str) else ""
    for v in VOICES.values():
        if norm(v.name) == want:
            return v
    # "kokoro:kumo" for "kokoro:jm_kumo"
    short = [v for v in VOICES.values() if norm(v.name.split("_", 1)[-1]) == want]
    if want and len(short) == 1:
        return short[0]
    known = ", ".join(v.id for v in VOICES.values())
    raise VoiceError(f"unknown Kokoro voice {voice_id!r}; the Kokoro voices are {known}")


# --- espeak phones to Kokoro tokens ---------------------------------------------------------

_REPLACE = sorted(
    {
        "aɪ": "I", "aʊ": "W", "eɪ": "A", "oʊ": "O", "ɔɪ": "Y",
        "dʒ": "ʤ", "tʃ": "ʧ", "əl": "ᵊl", "ɚ": "əɹ", "ɪə": "iə",
        "ɐ": "ə", "ɬ": "l", "x": "k", "ç": "k", "r": "ɹ", "ʔ": "t", "e": "A",
    }.items(),
    key=lambda kv: -len(kv[0]),
)
_SYLLABIC = re.compile(r"(\S)\u0329")
_PUNCT = {",": ",", ";": ";", ":": ":", ".": ".", "!": "!", "?": "?", "—": "—", "–": "—", "…": "…"}
_SENTENCE_MARKS = ".!?…"


def kokoro_symbols(name: str, next_name: str | None = None) -> str:
    """One espeak-ng en-us phone name written in Kokoro's (misaki's) American phoneme set.

    Parameters
    ----------
    name : str
        espeak's IPA name with stress marks, e.g. "ˈoʊ", "dʒ", "ɜː".
    next_name : str, optional
        The next phone's name: "ɜː" before "ɹ" is "ɜ", elsewhere "ɜɹ".

    Returns
    -------
    str
        e.g. "ˈO", "ʤ", "ɜɹ"; characters outside Kokoro's vocabulary are
        dropped later, when tokenising.
    """
    out = _SYLLABIC.sub(lambda m: "ᵊ" + m.group(1), name)
    if "ɜː" in out:
        before_r = next_name is not None and next_name.lstrip("ˈˌ").startswith(("ɹ", "r"))
        out = out.replace("ɜː", "ɜ" if before_r else "ɜɹ")
    for old, new in _REPLACE:
        out = out.replace(old, new)
    return out.replace("ː", "").replace("\u0303", "")


@dataclass(frozen=True)
class _Plan:
    """One sentence as Kokoro input.

    ``items`` are phones (index into the aligned phones) and separators
    (" " or punctuation); ``tokens[k]`` are the token ids of item ``k``.
    """

    items: tuple[int | str, ...]
    tokens: tuple[tuple[int, ...], ...]


def _phone_events(raw: espeak.RawSynthesis):
    """Phone events exactly as :func:`align` keeps them, plus separators between them.

    Returns
    -------
    list of (str, int, int) or ("|word", word event) or ("|pause", None)
        Phones as (espeak name with stress, start sample, end sample) in
        absolute samples; markers where a word starts or espeak pauses.
    """
    n_total = len(raw.samples)
    kinds = (espeak.EVENT_PHONEME, espeak.EVENT_WORD, espeak.EVENT_END, espeak.EVENT_MSG_TERMINATED)
    events = sorted((e for e in raw.events if e.kind in kinds), key=lambda e: e.sample)
    next_boundary = [n_total] * (len(events) + 1)
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        boundary = e.kind in (espeak.EVENT_PHONEME, espeak.EVENT_END, espeak.EVENT_MSG_TERMINATED)
        next_boundary[i] = e.sample if boundary else next_boundary[i + 1]
    out = []
    for i, ev in enumerate(events):
        if ev.kind == espeak.EVENT_WORD:
            out.append(("|word", ev))
        elif ev.kind == espeak.EVENT_PHONEME:
            if clean_phone(ev.name) is None:
                if not ev.name.startswith("("):
                    out.append(("|pause", None))
                continue
            end = min(next_boundary[i + 1], n_total)
            if end > ev.sample:
                out.append((ev.name, ev.sample, end))
    return out


def _punctuation(text: str, start: int, stop: int, *, final: bool) -> str | None:
    """The clause mark written in ``text[start:stop]``, mapped to Kokoro's; None if none."""
    region = text[max(start, 0):max(stop, 0)] if stop > start else ""
    marks = [_PUNCT[c] for c in region if c in _PUNCT]
    if not marks:
        return None
    if final:
        ends = [m for m in marks if m in _SENTENCE_MARKS]
        return ends[-1] if ends else marks[-1]
    return marks[-1]


def plan_sentence(text: str, raw: espeak.RawSynthesis, n_phones: int,
                  vocab: dict) -> tuple[_Plan, list[tuple[str, int, int]]]:
    """Kokoro input for ``text`` from espeak's events, one item per phone or separator.

    Returns
    -------
    plan : _Plan
    phones : list of (name, start, end)
        The phones, as :func:`align` keeps them, in absolute espeak samples.

    Raises
    ------
    InternalError
        The phones differ in number from ``n_phones`` (what :func:`align` found).
    """
    stream = _phone_events(raw)
    phones = [s for s in stream if not s[0].startswith("|")]
    if len(phones) != n_phones:
        raise InternalError(
            f"Kokoro phonemes: {len(phones)} phones from espeak events, {n_phones} from alignment "
            f"for {text[:60]!r}"
        )
    items: list[int | str] = []
    tokens: list[tuple[int, ...]] = []
    pending_space = pending_pause = False
    prev_word = next_word = None  # word events around the current boundary
    k = 0
    for entry in stream:
        tag = entry[0]
        if tag == "|word":
            next_word = entry[1]
            if k:
                pending_space = True
            continue
        if tag == "|pause":
            if k:
                pending_pause = True
            continue
        if k and (pending_space or pending_pause):
            mark = None
            if pending_pause and prev_word is not None and next_word is not None:
                a = prev_word.text_position - 1 + max(prev_word.length, 0)
                b = next_word.text_position - 1
                mark = _punctuation(text, a, b, final=False)
            if mark is not None:
                items.append(mark)
                tokens.append((vocab[mark],) if mark in vocab else ())
            items.append(" ")
            tokens.append((vocab[" "],))
        pending_space = pending_pause = False
        prev_word = next_word
        nxt = phones[k + 1][0] if k + 1 < len(phones) else None
        symbols = kokoro_symbols(entry[0], nxt)
        items.append(k)
        tokens.append(tuple(vocab[c] for c in symbols if c in vocab))
        k += 1
    if prev_word is not None:
        end = prev_word.text_position - 1 + max(prev_word.length, 0)
        mark = _punctuation(text, end - 1, len(text), final=True)
        if mark is not None and mark in vocab:
            items.append(mark)
            tokens.append((vocab[mark],))
    return _Plan(tuple(items), tuple(tokens)), phones


def _pieces(plan: _Plan, limit: int) -> list[tuple[int, int]]:
    """Item ranges [a, b) of at most ``limit`` tokens each, cut after punctuation where possible,
    else at a space, else between phones."""
    sizes = [len(t) for t in plan.tokens]
    out = []
    a = 0
    n = len(sizes)
    while a < n:
        total, b = 0, a
        while b < n and total + sizes[b] <= limit:
            total += sizes[b]
            b += 1
        if b >= n:
            out.append((a, n))
            break
        if b == a:  # one item over the limit cannot happen (a phone has a few tokens)
            raise InternalError("a Kokoro phone has more tokens than the model takes")
        cut = None
        for kind in ("punct", "space"):
            for j in range(b - 1, a, -1):
                item = plan.items[j]
                if kind == "punct" and isinstance(item, str) and item != " " and j - a >= (b - a) // 3:
                    cut = j + 1
                    break
                if kind == "space" and item == " ":
                    cut = j
                    break
            if cut is not None:
                break
        cut = cut or b
        out.append((a, cut))
        a = cut
        while a < n and plan.items[a] == " ":
            a += 1
    return out


def _frame_db(audio: np.ndarray, hop: int) -> np.ndarray:
    """dBFS of consecutive ``hop``-sample frames; frame ``i`` covers ``[i * hop, (i + 1) * hop)``."""
    n = len(audio) // hop
    if n == 0:
        return np.zeros(0)
    frames = np.asarray(audio[: n * hop], np.float64).reshape(n, hop)
    return 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)


def _quiet_runs(quiet: np.ndarray, lo: int, hi: int) -> list[tuple[int, int]]:
    """Runs [a, b) of True in ``quiet[lo:hi]``, as absolute frame indices."""
    lo, hi = max(lo, 0), min(hi, len(quiet))
    if hi <= lo:
        return []
    q = np.concatenate([[False], quiet[lo:hi], [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(q))
    return [(lo + int(x), lo + int(y)) for x, y in zip(edges[::2], edges[1::2])]


def _phone_times(plan: _Plan, spans: list, audio: np.ndarray) -> dict[int, list[int]]:
    """[start, end) in samples of ``audio`` for each phone that has tokens.

    A phone lasts as long as its tokens. Between two words, the separator
    tokens (a space, punctuation) are shared: where the audio has a pause there
    (a run of at least :data:`PAUSE_MIN_S` that stays :data:`QUIET_DB` under
    the sentence's loud level and overlaps the separator), the word before ends
    where the pause starts and the word after starts where it ends; Kokoro
    gives a phone before a comma the comma's silence too, so durations alone
    would make it 0.2 s too long. Without a pause the separator is split,
    :data:`SPACE_TO_PREVIOUS` to the word before. The first phone starts where
    the sound starts and the last ends where it ends.
    """
    hop = SAMPLE_RATE // 100
    db = _frame_db(audio, hop)
    if db.size:
        quiet = db < np.percentile(db, 95) - QUIET_DB
    else:
        quiet = np.zeros(0, bool)
    min_run = max(1, int(round(PAUSE_MIN_S * 100)))
    items = plan.items
    times: dict[int, list[int]] = {}
    order: list[int] = []  # item index of each timed phone
    for j, item in enumerate(items):
        if isinstance(item, int) and spans[j] is not None and spans[j][1] > spans[j][0]:
            times[item] = list(spans[j])
            order.append(j)
    if not order:
        return times

    def frames(x: int) -> int:
        return int(x // hop)

    # Edges of the sentence: where the sound starts and stops (a blip under
    # 30 ms of sound in the model's own silence does not count).
    sound = ~quiet
    for a, b in _quiet_runs(sound, 0, len(sound)):
        if b - a < 3:
            sound[a:b] = False
    first, last = items[order[0]], items[order[-1]]
    onset = np.flatnonzero(sound[: frames(times[first][1])])
    if onset.size:
        times[first][0] = max(0, min(int(onset[0]) * hop - EDGE_MARGIN, times[first][1] - hop))
    lo = frames(times[last][0])
    offset = np.flatnonzero(sound[lo:])
    if offset.size:
        times[last][1] = min(len(audio), max((lo + int(offset[-1]) + 1) * hop + EDGE_MARGIN,
                                             times[last][0] + hop))

    # Between neighbouring phones with separators between them.
    for ja, jb in zip(order, order[1:]):
        if jb == ja + 1:
            continue
        ka, kb = items[ja], items[jb]
        seps = [spans[j] for j in range(ja + 1, jb) if spans[j] is not None]
        g0 = seps[0][0] if seps else times[ka][1]
        g1 = seps[-1][1] if seps else times[kb][0]
        lo = frames((times[ka][0] + times[ka][1]) // 2)
        hi = frames((times[kb][0] + times[kb][1]) // 2)
        runs = [(a, b) for a, b in _quiet_runs(quiet, lo, hi)
                if b - a >= min_run and a * hop < g1 and b * hop > g0]
        if runs:
            a, b = max(runs, key=lambda r: r[1] - r[0])
            end = max(a * hop + EDGE_MARGIN, times[ka][0] + hop)
            start = min(b * hop - EDGE_MARGIN, times[kb][1] - hop)
            if start < end:  # a very short phone beside a pause: meet in the middle
                start = end = (start + end) // 2
            times[ka][1], times[kb][0] = end, start
        else:
            cut = int(round(g0 + SPACE_TO_PREVIOUS * (g1 - g0)))
            times[ka][1], times[kb][0] = cut, cut
    return {k: v for k, v in times.items() if v[1] > v[0]}


# --- the backend ---------------------------------------------------------------------------


class KokoroBackend(VoiceBackend):
    """A Kokoro-82M voice (English, 24 kHz).

    Parameters
    ----------
    voice : KokoroVoice
        See :data:`VOICES`; any mix of the model's styles works.

    Raises
    ------
    VoiceError
        A package is missing (checked cheaply here; the model itself loads on
        first use).
    """

    sample_rate = kokoro_model.SAMPLE_RATE
    language = "en-us"

    def __init__(self, voice: KokoroVoice) -> None:
        kokoro_model.check_installed()
        self.voice = voice
        self.id = voice.id
        self._style: np.ndarray | None = None

    def style(self) -> np.ndarray:
        """float32, shape (510, 256): the weighted sum of the voice's style tables."""
        if self._style is None:
            model = kokoro_model.load()
            total = sum(w for _, w in self.voice.mix)
            missing = [s for s, _ in self.voice.mix if s not in model.styles]
            if missing or total <= 0:
                raise VoiceError(
                    f"Kokoro voice {self.id!r} uses styles {missing} the model does not have; "
                    f"it has {sorted(model.styles)}"
                )
            self._style = sum(model.styles[s] * np.float32(w / total) for s, w in self.voice.mix).astype(np.float32)
        return self._style

    def synthesize_sentence(self, text: str, options: SynthesisOptions = SynthesisOptions()) -> Utterance | None:
        """Speak one sentence; see :meth:`VoiceBackend.synthesize_sentence`.

        Raises
        ------
        UserInputError
            ``options.pitch`` set (Kokoro has no pitch control), or
            ``options.rate`` outside :data:`MIN_SPEED`..:data:`MAX_SPEED`.
        VoiceError
            The model cannot be loaded (missing packages, failed SHA-256 check).
        """
        if options.pitch not in (None, 1.0):
            raise UserInputError(
                f"Kokoro voices have no pitch control (got pitch={options.pitch!r}); "
                "leave pitch out, or use an espeak-ng voice"
            )
        if not MIN_SPEED <= options.speed <= MAX_SPEED:
            raise UserInputError(
                f"speaking rate {options.speed:.3g}x is out of range for Kokoro voice {self.id!r}; "
                f"give {MIN_SPEED:g} to {MAX_SPEED:g} times its normal rate (with rate_wpm: "
                f"{MIN_SPEED * 175:.0f} to {MAX_SPEED * 175:.0f} words per minute)"
            )
        model = kokoro_model.load()
        style = self.style()
        raw = espeak.synth(text, identifier=PHONEMIZER_VOICE)
        aligned = align(text, raw)
        if aligned is None:
            return None
        plan, phones = plan_sentence(text, raw, len(aligned.phones), model.vocab)

        # Run the model piece by piece; frame spans per item, in samples of the joined audio.
        audio_parts = []
        spans: list[tuple[int, int] | None] = [None] * len(plan.items)
        offset = 0
        for a, b in _pieces(plan, kokoro_model.MAX_TOKENS):
            ids = [t for toks in plan.tokens[a:b] for t in toks]
            if not ids:
                continue
            audio, durations = model.run(ids, style, options.speed)
            edges = np.concatenate([[0], np.cumsum(durations)]) - LEAD_FRAMES
            edges = np.clip(np.round(edges * kokoro_model.HOP), 0, len(audio))
            tok = 1  # after the leading pad
            for j in range(a, b):
                n = len(plan.tokens[j])
                spans[j] = (offset + int(edges[tok]), offset + int(edges[tok + n]))
                tok += n
            audio_parts.append(audio)
            offset += len(audio)
        if not audio_parts:
            return None
        audio = np.concatenate(audio_parts)

        times = _phone_times(plan, spans, audio)
        if not times:
            return None
        first = min(s for s, _ in times.values())
        last = max(e for _, e in times.values())
        audio = np.array(audio[first:last], dtype=np.float32)
        fade = min(int(FADE_S * self.sample_rate), len(audio) // 4)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
            audio[:fade] *= ramp
            audio[-fade:] *= ramp[::-1]
        audio = apply_gain(audio, options.gain)
        sr = float(self.sample_rate)
        out_phones = [
            Phone(clean_phone(phones[k][0]), (times[k][0] - first) / sr, (times[k][1] - first) / sr)
            for k in sorted(times)
        ]

        # Written words: espeak's word spans (in its samples) select their phones.
        base = phones[0][1]
        rel = [(s - base, e - base) for _, s, e in phones]
        words = []
        prev_end = 0.0
        for w in aligned.words:
            inside = [k for k, (s, e) in enumerate(rel) if s >= w.start and e <= w.end and k in times]
            if inside:
                start = (times[inside[0]][0] - first) / sr
                end = (times[inside[-1]][1] - first) / sr
            else:  # written but not spoken: zero length where its phones would be
                later = [k for k, (s, _) in enumerate(rel) if s >= w.start and k in times]
                start = end = (times[later[0]][0] - first) / sr if later else (last - first) / sr
            start = max(start, prev_end)
            end = max(end, start)
            words.append(Word(w.label, start, end))
            prev_end = end
        duration = len(audio) / sr
        return Utterance(audio, self.sample_rate, tuple(out_phones), tuple(words),
                         (Sentence(text, 0.0, duration),))


# --- the engine ----------------------------------------------------------------------------


def voice_info(v: KokoroVoice) -> VoiceInfo:
    """``v`` as a voice of the catalogue (:mod:`speech.voices`)."""
    mix = v.mix[0][0] if len(v.mix) == 1 else "+".join(f"{w:g}*{s}" for s, w in v.mix)
    return VoiceInfo(id=v.id, name=v.description, languages=("en-us", "en"), gender=v.gender,
                     identifier=mix, engine=NAME)


@functools.lru_cache(maxsize=1)
def _listed() -> tuple[VoiceInfo, ...]:
    """Kokoro's voices, or none when its packages are not installed."""
    if kokoro_model.missing_packages():
        return ()
    return tuple(voice_info(v) for v in VOICES.values())


def _resolve(voice: str, home=None) -> VoiceInfo:
    kokoro_model.check_installed()
    return voice_info(voice_for(voice))


@functools.lru_cache(maxsize=32)
def _backend(voice_id: str) -> KokoroBackend:
    # One per voice and process, so its style vector is computed once.
    return KokoroBackend(voice_for(voice_id))


ENGINE = engines.register(Engine(
    name=NAME,
    prefix=PREFIX,
    voices=lambda home: _listed(),
    resolve=_resolve,
    backend=lambda info: _backend(info.id),
    english_only=True,
    phones_from="en-us",  # espeak-ng en-us phonemises every Kokoro sentence (PHONEMIZER_VOICE)
))
