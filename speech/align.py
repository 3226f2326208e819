"""Phone, word and sentence timings for a recorded voice, with pocketsphinx.

:func:`align_recording` turns any recording (WAV, MP3, M4A, or a video's sound
track) into an :class:`~speech.utterance.Utterance` whose phones drive the
mouth just like synthesised speech does. Two paths:

**With a transcript** (English only: pocketsphinx's bundled en-us acoustic
model and CMUdict). Forced alignment in two passes: a word pass
(``Decoder.set_align_text``) then a phone pass (``Decoder.set_alignment``).
CMU phones are mapped to IPA (``AH`` becomes "ə": without stress marks most
``AH`` are reduced vowels). Pauses the aligner finds (``SIL``) and noises are
gaps with no Phone. Words come back as written in the transcript.

Transcript words are looked up lower-cased with surrounding punctuation
removed; digits are spelled out ("2024" -> "two thousand twenty four"), and
hyphenated or slashed words are looked up part by part. A word (or part) that
is not in the dictionary (CMUdict, about 126k words) is left out of the text
given to the aligner, which then labels its sound as silence; that stretch
(between the neighbouring known words) is filled with phones from the phone
loop below,
and the unknown word is timed to the speech the phone loop found there (zero
length at the stretch start when it found none). If the aligner cannot match
the transcript to the audio at all, the whole recording falls back to the
phone loop and the transcript's words are spread over its speech in
proportion to their length. For a language other than English the transcript
is used only this way (words and sentences for captions); phones always come
from the phone loop.

**Without a transcript, English**: the en-us recogniser (pocketsphinx's default
language model) writes down what it hears, and those words are force-aligned
as above. The words are often wrong, but their phones are close to what was
said, and they follow the dictionary's phone sequences, which the phone loop
does not. On the five shared presenter clips, the correlation between the
mouth openness the phones give and the real lip gap tracked in the video rose
from 0.38 (phone loop) to 0.47 on average; on their last 2-3 s alone it fell
from 0.38 to 0.33 (too little context for the language model), so recordings
shorter than :data:`RECOGNISE_MIN_S` use the phone loop. The words are not kept
(no captions from guesses).

**Without a transcript, other or unknown language**: phone-loop decoding (pocketsphinx ``allphone`` search
with the en-us phone bigram). It recognises English phones in any language,
so the symbols are rough, but the timing of speech versus silence and the
rhythm of syllables are what a mouth needs. Each stretch of speech (pauses
shorter than :data:`SENTENCE_GAP_S` joined) becomes one Sentence with empty
text; ``words`` is empty.

On both paths, phones are then cut out of every run of at least
:data:`QUIET_MIN_S` that stays :data:`QUIET_DB` under the recording's loud
level, so the mouth rests wherever the recording is silent even when the
decoder stretched a phone over a pause.

Measured (2-core x86 CPU, see tests/test_align.py):

* forced alignment of espeak-ng's en-us speech against its own script (8 s and
  61 s): word starts within 0.014-0.017 s of espeak's word timings on median,
  0.06 s at the 95th percentile, 0.14 s at worst (espeak's robotic voice aligns
  well); its pauses come back as gaps. An unknown word lands within 0.2 s;
* real English (en_imagine, en_radio_2) aligned with pocketsphinx's own
  recognised text: words in order, under 5 % of pause frames carry a phone,
  over 90 % of phone frames are speech;
* phone loop on English, German, French, Japanese and Mandarin clips: phones
  cover 94-100 % of loud frames and at most 5 % of pause frames. Its symbols
  are rough: on espeak speech it agrees with forced alignment on the phone in
  about 44 % of speech frames and on the mouth shape (first viseme) in about
  half; it marks 84-90 % of those frames as speech and 97-100 % of the silent
  ones as silent. Fine for mouth shapes, not for captions;
* speed: phone loop 0.035-0.05 s per second of audio, forced alignment
  0.04-0.06 s per second (60 s of speech in under 3 s; 300 s in about 15 s
  with about 430 MB peak memory, because the phone pass runs in pieces of
  about :data:`CHUNK_S`).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

from podium.common.errors import UserInputError, VoiceError
from podium.speech.utterance import Phone, Sentence, Utterance, Word

SAMPLE_RATE = 16000
SENTENCE_GAP_S = 0.4
"""Without a transcript, pauses at least this long end a Sentence."""
CHUNK_S = 15.0
"""Forced alignment's phone pass runs on pieces of about this many seconds (at most twice)."""
_ALIGN_BEAMS = ({"beam": 1e-100, "pbeam": 1e-100, "wbeam": 1e-60},
                {"beam": 1e-150, "pbeam": 1e-150, "wbeam": 1e-100})
"""Forced alignment's beams, tried in turn until the word pass succeeds. pocketsphinx's
defaults (1e-48, 1e-48, 7e-29) lose the path on a minute of espeak-ng speech
("Final result does not match the grammar")."""
RECOGNISE_MIN_S = 4.0
"""English recordings shorter than this get the phone loop: the recogniser's language model
needs context (on 2-3 s snippets its phones timed the mouth worse than the phone loop)."""
QUIET_DB = 35.0
"""Frames this many dB below the recording's loud level (95th percentile) are quiet."""
QUIET_MIN_S = 0.15
"""Quiet runs at least this long are pauses: phones are cut out of them."""

ARPABET_TO_IPA = {
    "AA": "ɑ", "AE": "æ", "AH": "ə", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "B": "b",
    "CH": "tʃ", "D": "d", "DH": "ð", "EH": "ɛ", "ER": "ɚ", "EY": "eɪ", "F": "f",
    "G": "ɡ", "HH": "h", "IH": "ɪ", "IY": "i", "JH": "dʒ", "K": "k", "L": "l",
    "M": "m", "N": "n", "NG": "ŋ", "OW": "oʊ", "OY": "ɔɪ", "P": "p", "R": "ɹ",
    "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "UH": "ʊ", "UW": "u", "V": "v",
    "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}
"""CMU phones of pocketsphinx's en-us model to IPA; SIL and +FILLERS+ are not here (gaps)."""

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)|[。！？]+[」』”）]*")
_ALT = re.compile(r"\(\d+\)$")


# --- public -------------------------------------------------------------------------------


def align_recording(audio_path: str | Path, *, transcript: str | None = None,
                    language: str | None = None) -> Utterance:
    """Time the phones, words and sentences of a recorded voice.

    Parameters
    ----------
    audio_path : str or Path
        Any file ffmpeg can decode that has sound: WAV, MP3, M4A, FLAC, or a
        video (its first audio stream is used).
    transcript : str, optional, keyword-only
        What is said, as plain text. English gets forced alignment; see the
        module docstring for unknown words and other languages. Sentences are
        split at ``.``, ``!`` and ``?``.
    language : str, optional, keyword-only
        Language of the speech, e.g. "en-us", "en", "de", "ja"; None when not
        known. A transcript is force-aligned when the language is English or
        not given. Without a transcript, English ("en" or "en-...") is first
        recognised with the en-us language model and the recognised words are
        force-aligned (their phones time the mouth better than the phone loop:
        see the module docstring); other or unknown languages get the phone
        loop.

    Returns
    -------
    Utterance
        The recording as 16000 Hz mono float32, IPA phones with silences as
        gaps, the transcript's words (none without a transcript) and sentences.

    Raises
    ------
    UserInputError
        The file is missing or has no audio, or the transcript is empty.
    VoiceError
        ``language`` is not a language tag.
    """
    lang = _check_language(language) if language is not None else None
    english = lang is None or lang == "en" or lang.startswith("en-")
    if transcript is not None:
        if not isinstance(transcript, str):
            raise UserInputError(f"the transcript must be text, got {type(transcript).__name__}")
        sentences_text = _split_sentences(transcript)
        if not any(words for _, words in sentences_text):
            raise UserInputError(
                "the transcript is empty; give the words spoken in the recording, "
                "or leave the transcript out to time the speech without one"
            )
    audio = _load(audio_path)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    duration = len(audio) / SAMPLE_RATE

    if transcript is None:
        recognise = lang is not None and english and duration >= RECOGNISE_MIN_S
        recognised = _recognise_english(pcm) if recognise else []
        if recognised:
            phones, _ = _align_english(pcm, recognised, duration)
        else:
            phones = _phone_loop(pcm)
        # Recognised words are too often wrong to show as captions: phones only.
        phones = _clear_quiet(phones, audio)
        sentences = tuple(Sentence("", s, e) for s, e in _stretches(phones, SENTENCE_GAP_S))
        return Utterance(audio, SAMPLE_RATE, tuple(phones), (), sentences)

    written = [w for _, words in sentences_text for w in words]
    if english:
        phones, times = _align_english(pcm, written, duration)
    else:
        phones = _phone_loop(pcm)
        times = _spread(written, _stretches(phones, 0.0), duration)
    phones = _clear_quiet(phones, audio)
    words = tuple(Word(w, s, e) for w, (s, e) in zip(written, times))
    sentences = []
    k = 0
    for text, ws in sentences_text:
        if ws:
            sentences.append(Sentence(text, words[k].start, words[k + len(ws) - 1].end))
            k += len(ws)
    return Utterance(audio, SAMPLE_RATE, tuple(phones), words, tuple(sentences))


# --- input --------------------------------------------------------------------------------


def _check_language(language: str) -> str:
    lang = language.strip().lower().replace("_", "-") if isinstance(language, str) else ""
    if not _LANGUAGE.match(lang):
        raise VoiceError(
            f"language {language!r} is not a language tag; give one like 'en-us', 'de' or 'ja'"
        )
    return lang


def _load(audio_path: str | Path) -> np.ndarray:
    from podium.common.media import read_audio

    path = Path(audio_path)
    if not path.is_file():
        raise UserInputError(f"audio file not found: '{path}'; check the path")
    audio = read_audio(path, sample_rate=SAMPLE_RATE, timeout=900.0)
    if audio.size == 0:
        raise UserInputError(
            f"'{path.name}' has no audio ffmpeg can read; give a WAV, MP3 or M4A file, "
            "or a video with a sound track"
        )
    return np.ascontiguousarray(audio, dtype=np.float32)


def _strip_punct(token: str) -> str:
    """Remove punctuation (not symbols like $ or %) from both ends of ``token``."""
    is_p = lambda c: unicodedata.category(c).startswith("P")  # noqa: E731
    i, j = 0, len(token)
    while i < j and is_p(token[i]):
        i += 1
    while j > i and is_p(token[j - 1]):
        j -= 1
    return token[i:j]


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF" and unicodedata.category(ch).startswith("L")


def _split_words(text: str) -> list[str]:
    """Written words of ``text``: whitespace-separated, punctuation stripped; CJK per character."""
    words = []
    for token in text.split():
        token = _strip_punct(token)
        if not token:
            continue
        if any(_is_wide(c) for c in token):
            buf = ""
            for c in token:
                if _is_wide(c):
                    if _strip_punct(buf):
                        words.append(_strip_punct(buf))
                    buf = ""
                    words.append(c)
                elif not (unicodedata.category(c).startswith("P") and not buf):
                    buf += c
            if _strip_punct(buf):
                words.append(_strip_punct(buf))
        else:
            words.append(token)
    return words


def _split_sentences(transcript: str) -> list[tuple[str, list[str]]]:
    """(sentence text with whitespace collapsed, its written words) in order."""
    cuts = [m.end() for m in _SENTENCE_END.finditer(transcript)] + [len(transcript)]
    out = []
    begin = 0
    for end in cuts:
        text = " ".join(transcript[begin:end].split())
        begin = end
        if text:
            out.append((text, _split_words(text)))
    return out


# --- numbers ------------------------------------------------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def _number_words(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    for size, name in _SCALES:
        if n >= size:
            rest = _number_words(n % size) if n % size else []
            return _number_words(n // size) + [name] + rest
    raise AssertionError(n)


def _digits_words(digits: str) -> list[str]:
    if len(digits) > 12 or (len(digits) > 1 and digits.startswith("0")):
        return [_ONES[int(d)] for d in digits]  # "007", phone numbers: digit by digit
    return _number_words(int(digits))


_SYMBOL_WORDS = {"%": "percent", "&": "and", "+": "plus", "@": "at", "=": "equals"}


def _dict_tokens(word: str, lookup) -> list[str | None]:
    """Dictionary words for one written word; None for each part the dictionary lacks."""
    w = word.lower().replace("’", "'").replace("‘", "'")
    w = re.sub(r"(?<=\d),(?=\d{3})", "", w)
    if lookup(w):
        return [w]
    out: list[str | None] = []
    for part in re.findall(r"\d+|[^\W\d_]+(?:'[^\W\d_]+)*|[%&+@=]", w):
        if part.isdigit():
            out.extend(_digits_words(part))
        elif part in _SYMBOL_WORDS:
            out.append(_SYMBOL_WORDS[part])
        elif lookup(part):
            out.append(part)
        elif part.endswith("'s") and lookup(part[:-2]):
            out.append(part[:-2])
        else:
            out.append(None)
    return out or [None]


# --- decoding -----------------------------------------------------------------------------


def _model_path(sub: str) -> str:
    from pocketsphinx import get_model_path

    return get_model_path(sub)


def _ipa(name: str) -> str | None:
    return ARPABET_TO_IPA.get(_ALT.sub("", name).upper())


def _phone_loop(pcm: bytes) -> list[Phone]:
    """Phones (IPA) of the whole recording from the en-us phone loop; silences are gaps."""
    from pocketsphinx import Decoder

    if len(pcm) < 2 * SAMPLE_RATE // 10:  # under 0.1 s: nothing to find
        return []
    decoder = Decoder(allphone=_model_path("en-us/en-us-phone.lm.bin"), lw=2.0,
                      beam=1e-20, pbeam=1e-20, dither=True, loglevel="FATAL")
    frate = decoder.config["frate"]
    try:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        segs = [(s.word, s.start_frame, s.end_frame) for s in decoder.seg()]
    except RuntimeError:
        return []
    phones = []
    for name, f0, f1 in segs:
        symbol = _ipa(name)
        if symbol is not None and f1 >= f0:
            phones.append(Phone(symbol, f0 / frate, (f1 + 1) / frate))
    return _tidy(phones)


def _recognise_english(pcm: bytes) -> list[str]:
    """Words pocketsphinx's en-us model hears in the recording (may be wrong; may be empty)."""
    from pocketsphinx import Decoder

    if len(pcm) < 2 * SAMPLE_RATE // 10:
        return []
    decoder = Decoder(dither=True, loglevel="FATAL")
    try:
        _decode(decoder, pcm)
        hyp = decoder.hyp()
    except RuntimeError:
        return []
    return hyp.hypstr.split() if hyp is not None else []


def _tidy(phones: list[Phone]) -> list[Phone]:
    """Sorted, non-overlapping, every phone ``start < end``."""
    out: list[Phone] = []
    for p in sorted(phones, key=lambda p: p.start):
        start = max(p.start, out[-1].end) if out else p.start
        if p.end - start > 1e-6:
            out.append(Phone(p.symbol, round(start, 4), round(p.end, 4)))
    return out


def frame_db(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """RMS level in dBFS of 25 ms windows every 10 ms; window ``i`` is centred at ``i / 100`` s."""
    hop, win = sample_rate // 100, sample_rate * 25 // 1000
    audio = np.pad(np.asarray(audio, np.float64), (win // 2, win // 2))
    n = max(0, (len(audio) - win) // hop + 1)
    if n == 0:
        return np.zeros(0)
    energy = np.concatenate([[0.0], np.cumsum(audio * audio)])  # O(n) memory, any length
    starts = np.arange(n) * hop
    power = np.maximum(energy[starts + win] - energy[starts], 0.0) / win
    return 10.0 * np.log10(power + 1e-12)


def quiet_runs(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, *, below_db: float = QUIET_DB,
               min_s: float = QUIET_MIN_S) -> list[tuple[float, float]]:
    """(start, end) seconds of runs at least ``min_s`` long whose level stays
    ``below_db`` under the recording's loud level (95th percentile of :func:`frame_db`)."""
    db = frame_db(audio, sample_rate)
    if db.size == 0:
        return []
    quiet = db < np.percentile(db, 95) - below_db
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    runs = []
    for a, b in zip(edges[::2], edges[1::2]):
        if (b - a) / 100.0 >= min_s:
            runs.append((a / 100.0, b / 100.0))
    return runs


def _clear_quiet(phones: list[Phone], audio: np.ndarray) -> list[Phone]:
    """Cut phones out of long quiet runs, so the mouth rests wherever the recording is silent."""
    runs = quiet_runs(audio)
    if not runs:
        return phones
    out = []
    for p in phones:
        pieces = [(p.start, p.end)]
        for q0, q1 in runs:
            if q0 >= p.end:
                break
            nxt = []
            for s, e in pieces:
                if q1 <= s or q0 >= e:
                    nxt.append((s, e))
                    continue
                if q0 - s > 0.02:
                    nxt.append((s, q0))
                if e - q1 > 0.02:
                    nxt.append((q1, e))
            pieces = nxt
        out.extend(Phone(p.symbol, round(s, 4), round(e, 4)) for s, e in pieces)
    return out


def _stretches(phones: list[Phone], max_gap: float) -> list[tuple[float, float]]:
    """Runs of phones whose gaps are shorter than ``max_gap`` (0: touching phones only)."""
    out: list[list[float]] = []
    for p in phones:
        if out and p.start - out[-1][1] <= max(max_gap, 1e-6):
            out[-1][1] = max(out[-1][1], p.end)
        else:
            out.append([p.start, p.end])
    return [(s, e) for s, e in out]


def _spread(words: list[str], spans: list[tuple[float, float]], lo: float,
            hi: float | None = None) -> list[tuple[float, float]]:
    """Time ``words`` over the speech ``spans`` in proportion to their length.

    With two arguments after ``words`` the window is ``[0, lo]`` (``lo`` is the
    duration); with three it is ``[lo, hi]``. Without speech in the window the
    words share the whole window.
    """
    if hi is None:
        lo, hi = 0.0, lo
    spans = [(max(s, lo), min(e, hi)) for s, e in spans if min(e, hi) > max(s, lo)]
    if not spans:
        spans = [(lo, hi)]
    weights = np.array([max(len(w), 1) for w in words], float)
    total_speech = sum(e - s for s, e in spans)
    edges = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * total_speech

    def at(t: float) -> float:
        for s, e in spans:
            if t <= e - s + 1e-9:
                return s + min(t, e - s)
            t -= e - s
        return spans[-1][1]

    return [(round(at(edges[i]), 4), round(at(edges[i + 1]), 4)) for i in range(len(words))]


def _align_english(pcm: bytes, written: list[str], duration: float):
    """Forced alignment of ``written`` words; returns (phones, [(start, end)] per word)."""
    from pocketsphinx import Decoder

    aligned = None
    for beams in _ALIGN_BEAMS:
        # bestpath=False: with it the word pass can leave a 1-frame phone that the phone
        # pass cannot align ("impossible duration", then "Alignment failed").
        decoder = Decoder(lm=None, dither=True, bestpath=False, loglevel="FATAL", **beams)
        frate = decoder.config["frate"]
        per_word = [_dict_tokens(w, decoder.lookup_word) for w in written]
        tokens = [t for parts in per_word for t in parts if t is not None]
        if not tokens:
            break
        aligned = _force(decoder, pcm, tokens, frate)
        if aligned is not None:
            break
    if aligned is None:
        # Nothing to align, or the aligner could not match the text: phone loop for all.
        phones = _phone_loop(pcm)
        return phones, _spread(written, _stretches(phones, 0.0), duration)
    word_times, phones, failed = aligned

    # Walk the written words; known parts take their aligned times, and each run of
    # unknown parts gets the stretch between its aligned neighbours.
    times: list[tuple[float, float] | None] = [None] * len(written)
    pending: list[int] = []  # written words (fully unknown) waiting for a stretch
    gaps: list[tuple[float, float, list[int]]] = []
    k = 0
    prev_end = 0.0
    unknown_open = False
    for i, parts in enumerate(per_word):
        spans = []
        for t in parts:
            if t is None:
                unknown_open = True
                continue
            s, e = word_times[k]
            k += 1
            if unknown_open:
                gaps.append((prev_end, s, pending))
                pending, unknown_open = [], False
            spans.append((s, e))
            prev_end = e
        if spans:
            times[i] = (spans[0][0], spans[-1][1])
        else:
            pending.append(i)
    if unknown_open:
        gaps.append((prev_end, duration, pending))
    gaps.extend((lo, hi, []) for lo, hi in failed)

    if gaps:
        loop = _phone_loop(pcm)
        for lo, hi, idx in gaps:
            fill = [Phone(p.symbol, max(p.start, lo), min(p.end, hi)) for p in loop
                    if min(p.end, hi) - max(p.start, lo) > 0.015]
            phones.extend(fill)
            if idx:
                speech = _stretches(fill, 0.0)
                if speech:
                    lo, hi = speech[0][0], speech[-1][1]
                    got = _spread([written[j] for j in idx], speech, lo, hi)
                else:
                    got = [(lo, lo)] * len(idx)
                for j, span in zip(idx, got):
                    times[j] = span
    phones = _tidy(phones)

    out: list[tuple[float, float]] = []
    cursor = 0.0
    for span in times:
        s, e = span if span is not None else (cursor, cursor)
        s = max(s, cursor)
        e = max(e, s)
        out.append((round(s, 4), round(e, 4)))
        cursor = e
    return phones, out


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def _word_pass(decoder, pcm: bytes, tokens: list[str]) -> list[tuple[int, int]] | None:
    """First frame and one past the last frame of each token, or None when alignment fails."""
    try:
        decoder.set_align_text(" ".join(tokens))
        _decode(decoder, pcm)
        # hyp() only here, after the word pass: after the phone pass it crashes.
        if decoder.hyp() is None:
            return None
        seg = [(_ALT.sub("", s.word), s.start_frame, s.end_frame) for s in decoder.seg()
               if s.word[:1] not in "<[+"]
    except RuntimeError:
        return None
    if [w for w, _, _ in seg] != tokens:
        return None
    return [(f0, f1 + 1) for _, f0, f1 in seg]


def _chunks(frames: list[tuple[int, int]], n_frames: int, frate: int):
    """Cut the token sequence into pieces of about :data:`CHUNK_S` at gaps between words.

    Yields (first token, one past last token, first frame, one past last frame);
    frame ranges tile ``[0, n_frames)`` and each cut lies mid-way in a gap.
    """
    target, longest = CHUNK_S * frate, 2 * CHUNK_S * frate
    i0, lo = 0, 0
    for i in range(1, len(frames)):
        gap = frames[i][0] - frames[i - 1][1]
        length = frames[i - 1][1] - lo
        if (length >= target and gap >= 10) or length >= longest:
            cut = (frames[i - 1][1] + frames[i][0]) // 2
            yield i0, i, lo, cut
            i0, lo = i, cut
    yield i0, len(frames), lo, n_frames


def _force(decoder, pcm: bytes, tokens: list[str], frate: int):
    """Forced alignment of ``tokens`` (dictionary words) to the whole recording.

    A word pass over the whole recording places the words; the phone pass
    (which needs about 8 MB of memory per second of audio) then runs on pieces
    of about :data:`CHUNK_S` cut in pauses, each with its own word pass.

    Returns
    -------
    (word (start, end) per token, phones, spans) or None
        None when the word pass fails. ``spans`` are the (start, end) seconds
        of pieces whose phone pass failed; they have no phones here.
    """
    frames = _word_pass(decoder, pcm, tokens)
    if frames is None:
        return None
    hop = SAMPLE_RATE // frate
    n_frames = len(pcm) // 2 // hop
    word_times = [(f0 / frate, f1 / frate) for f0, f1 in frames]
    phones: list[Phone] = []
    failed: list[tuple[float, float]] = []
    for i0, i1, lo, hi in _chunks(frames, n_frames, frate):
        piece = pcm[2 * hop * lo: 2 * hop * hi] if hi < n_frames else pcm[2 * hop * lo:]
        got = _phone_pass(decoder, piece, tokens[i0:i1], frate)
        if got is None:
            failed.append((word_times[i0][0], word_times[i1 - 1][1]))
            continue
        offset = lo / frate
        times, chunk_phones = got
        word_times[i0:i1] = [(s + offset, e + offset) for s, e in times]
        phones.extend(Phone(p.symbol, p.start + offset, p.end + offset) for p in chunk_phones)
    return word_times, phones, failed


def _phone_pass(decoder, pcm: bytes, tokens: list[str], frate: int):
    """Word pass then phone pass on one piece; ([(start, end)] per token, phones) or None."""
    if _word_pass(decoder, pcm, tokens) is None:
        return None
    phones: list[Phone] = []
    try:
        decoder.set_alignment()
        _decode(decoder, pcm)
        alignment = decoder.get_alignment()
        if alignment is None:
            return None
        # Walk the alignment once, nested: its entries are views into the iterator and
        # must not outlive it (keeping them in a list and iterating later segfaults).
        names, times = [], []
        for w in alignment:
            if w.name[:1] not in "<[+":
                names.append(_ALT.sub("", w.name))
                times.append((w.start / frate, (w.start + w.duration) / frate))
            for p in w:
                symbol = _ipa(p.name)
                if symbol is not None and p.duration > 0:
                    phones.append(Phone(symbol, p.start / frate, (p.start + p.duration) / frate))
    except RuntimeError:
        return None
    if names != tokens:
        return None
    return times, phones
