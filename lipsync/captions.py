"""Captions from an utterance's sentence and word timings, as SRT or WebVTT.

One cue per sentence; a sentence too long for ``max_lines`` lines of
``max_chars`` characters is cut into several cues at word boundaries, each
timed by its own words, so captions follow the speech.
"""

from __future__ import annotations

import math
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from podium.common.errors import UserInputError
from podium.common.files import atomic_path
from podium.speech import Utterance


@dataclass(frozen=True)
class Cue:
    """One caption on screen.

    Attributes
    ----------
    start, end : float
        Seconds into the audio, ``0 <= start <= end <= duration``.
    lines : tuple of str
        Text lines, top to bottom, none empty.
    """

    start: float
    end: float
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Unit:
    """A piece of sentence text that is never cut: a word with its punctuation."""

    text: str
    space_before: bool
    start: float
    end: float


def _sentence_units(text: str, words: Sequence, start: float, end: float) -> list[_Unit]:
    """Cut ``text`` before each of ``words`` (found in order), keeping punctuation."""
    cuts: list[tuple[int, float, float]] = []  # (offset, start, end)
    cursor = 0
    for w in words:
        pos = text.find(w.text, cursor)
        if pos < 0:
            continue
        cut = pos
        # Cut at the space before the word, so an opening quote stays with it.
        space = text.rfind(" ", cursor, pos)
        if space >= 0 and cuts:
            cut = space + 1
        elif not cuts:
            cut = 0
        if cuts and cut == cuts[-1][0]:
            # Same piece as the previous word (no space between): widen it.
            o, s, _ = cuts[-1]
            cuts[-1] = (o, s, w.end)
        else:
            cuts.append((cut, w.start, w.end))
        cursor = pos + len(w.text)
    if not cuts:
        return [_Unit(" ".join(text.split()), False, start, end)] if text.strip() else []
    units = []
    for i, (offset, s, e) in enumerate(cuts):
        stop = cuts[i + 1][0] if i + 1 < len(cuts) else len(text)
        piece = text[offset:stop]
        if not piece.strip():
            continue
        space_before = i > 0 and (piece[:1].isspace() or text[offset - 1 : offset].isspace())
        units.append(_Unit(piece.strip(), space_before, s, e))
    return units


def _width(text: str) -> int:
    """Columns ``text`` takes on screen: CJK and other wide characters count 2,
    so a line never holds more than ``max_chars`` characters either way."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: Characters that must not start a line (Japanese kinsoku shori, Chinese too):
#: closing brackets, commas, full stops, small kana and the prolonged-sound mark.
NO_LINE_START = set("、。，．,.!?！？：；:;)]}）］｝」』】〉》〕’”ゝゞー"
                    "ァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖ・…")
#: Characters that must not end a line: opening brackets and quotes.
NO_LINE_END = set("([{（［｛「『【〈《〔‘“")
#: Right-to-left mark: put before each line of a right-to-left caption so players lay the
#: line out right to left even when it starts with a number or a Latin word.
RLM = "\u200f"


def _split_long(unit: _Unit, max_chars: int) -> list[_Unit]:
    # A word wider than a line (a URL, a run of CJK text) is cut between
    # characters, its time shared out by length. A cut never leaves a closing
    # mark at the start of a line or an opening one at its end.
    if _width(unit.text) <= max_chars:
        return [unit]
    pieces: list[str] = []
    current = ""
    for ch in unit.text:
        if current and _width(current + ch) > max_chars:
            cut = len(current)
            while cut > 1 and (ch if cut == len(current) else current[cut]) in NO_LINE_START:
                cut -= 1
            while cut > 1 and current[cut - 1] in NO_LINE_END:
                cut -= 1
            pieces.append(current[:cut])
            current = current[cut:]
        current += ch
    pieces.append(current)
    dur = unit.end - unit.start
    out = []
    done = 0
    for i, piece in enumerate(pieces):
        a = unit.start + dur * done / len(unit.text)
        done += len(piece)
        b = unit.start + dur * done / len(unit.text)
        out.append(_Unit(piece, unit.space_before if i == 0 else False, a, b))
    return out


def is_right_to_left(text: str) -> bool:
    """True when most letters of ``text`` belong to a right-to-left script (Arabic, Hebrew...)."""
    rtl = ltr = 0
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            rtl += 1
        elif kind == "L":
            ltr += 1
    return rtl > ltr


def _wrap(units: Sequence[_Unit], width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for u in units:
        if not line:
            line = u.text
        elif _width(line) + int(u.space_before) + _width(u.text) <= width:
            line += (" " if u.space_before else "") + u.text
        else:
            lines.append(line)
            line = u.text
    if line:
        lines.append(line)
    return lines


def _balanced_lines(units: Sequence[_Unit], max_chars: int, max_lines: int) -> list[str] | None:
    """Wrap into as few lines as possible (None if more than ``max_lines``),
    then as narrow as possible so the lines come out about equally long."""
    n_lines = len(_wrap(units, max_chars))
    if n_lines > max_lines:
        return None
    longest = max(_width(u.text) for u in units)
    for width in range(longest, max_chars + 1):
        lines = _wrap(units, width)
        if len(lines) <= n_lines:
            return lines
    return _wrap(units, max_chars)


def _joined_len(units: Sequence[_Unit]) -> int:
    return sum(_width(u.text) + int(u.space_before and k > 0) for k, u in enumerate(units))


def _greedy(units: Sequence[_Unit], max_chars: int, max_lines: int, budget: int) -> list[tuple[int, int]]:
    """Cut units into (start, stop) runs that wrap into max_lines lines and
    hold at most ``budget`` characters (a single unit always fits)."""
    runs = []
    i = 0
    while i < len(units):
        j = i + 1
        while (
            j < len(units)
            and _joined_len(units[i : j + 1]) <= budget
            and len(_wrap(units[i : j + 1], max_chars)) <= max_lines
        ):
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _chunk(units: Sequence[_Unit], max_chars: int, max_lines: int) -> list[tuple[int, int]]:
    """Fewest cues for a sentence, with their lengths evened out so the last
    cue is not a lone word."""
    runs = _greedy(units, max_chars, max_lines, budget=max_chars * max_lines)
    n = len(runs)
    if n == 1:
        return runs
    total = _joined_len(units)
    for budget in range(math.ceil(total / n), max_chars * max_lines + 1):
        even = _greedy(units, max_chars, max_lines, budget)
        if len(even) <= n:
            return even
    return runs


def make_cues(utterance: Utterance, *, max_chars: int = 42, max_lines: int = 2) -> list[Cue]:
    """Caption cues for an utterance.

    Parameters
    ----------
    utterance : speech.Utterance
        Synthesised speech with sentence and word timings.
    max_chars : int, keyword-only
        Longest line in screen columns (42 is the usual broadcast limit); a
        wide CJK character takes two, any other character one.
    max_lines : int, keyword-only
        Most lines in one cue.

    Returns
    -------
    list of Cue
        In time order, non-overlapping, inside ``[0, utterance.duration]``.
        Lines of right-to-left sentences start with :data:`RLM`; text without
        spaces (Chinese, Japanese) is cut by width, never before a closing mark.
    """
    if max_chars < 1 or max_lines < 1:
        raise UserInputError(
            f"caption limits max_chars={max_chars!r}, max_lines={max_lines!r} must both be "
            "at least 1; the usual values are 42 and 2"
        )
    words = list(utterance.words)
    cues: list[Cue] = []
    wi = 0
    eps = 1e-6
    for sentence in utterance.sentences:
        # Words are sorted and sentences do not overlap, so one pass suffices.
        while wi < len(words) and words[wi].start < sentence.start - eps:
            wi += 1
        mine = []
        while wi < len(words) and words[wi].start <= sentence.end + eps:
            mine.append(words[wi])
            wi += 1
        units: list[_Unit] = []
        for u in _sentence_units(sentence.text, mine, sentence.start, sentence.end):
            units.extend(_split_long(u, max_chars))
        if not units:
            continue

        rtl = is_right_to_left(sentence.text)
        for a, b in _chunk(units, max_chars, max_lines):
            chunk = units[a:b]
            lines = _balanced_lines(chunk, max_chars, max_lines) or [u.text for u in chunk]
            if rtl:
                lines = [RLM + line for line in lines]
            start = sentence.start if a == 0 else chunk[0].start
            end = sentence.end if b == len(units) else chunk[-1].end
            cues.append(Cue(start, end, tuple(lines)))

    # Clamp to the audio and make sure no cue starts before the last one ended.
    out: list[Cue] = []
    duration = utterance.duration
    for cue in cues:
        start = min(max(cue.start, out[-1].end if out else 0.0), duration)
        end = min(max(cue.end, start), duration)
        out.append(Cue(start, end, cue.lines))
    return out


#: "This video was generated with AI." per language (ISO 639-1 codes; Chinese in simplified and
#: traditional script). Keys are what :func:`disclosure_text` looks up after normalising a code.
DISCLOSURE_TEXTS = {
    "en": "This video was generated with AI.",
    "de": "Dieses Video wurde mit KI erstellt.",
    "fr": "Cette vidéo a été générée par IA.",
    "es": "Este vídeo ha sido generado con IA.",
    "it": "Questo video è stato generato con l'IA.",
    "pt": "Este vídeo foi gerado com IA.",
    "nl": "Deze video is gegenereerd met AI.",
    "ja": "この動画はAIで生成されました。",
    "zh": "本视频由AI生成。",
    "zh-hant": "本影片由AI生成。",
    "ru": "Это видео создано с помощью ИИ.",
    "ko": "이 동영상은 AI로 생성되었습니다.",
    "ar": "تم إنشاء هذا الفيديو بالذكاء الاصطناعي.",
}
# espeak-ng voice names that are not ISO 639-1 codes.
_LANGUAGE_ALIASES = {"cmn": "zh", "yue": "zh-hant", "zh-tw": "zh-hant", "zh-hk": "zh-hant",
                     "zh-mo": "zh-hant"}
#: How long the disclosure stays up at the start, and the shortest it may be shown alone.
DISCLOSURE_SECONDS = 2.5
MIN_ALONE_SECONDS = 1.0


def disclosure_text(language: str | None) -> str:
    """The default AI disclosure in ``language``; English when the language has none.

    Parameters
    ----------
    language : str or None
        A language code or voice name: ``"de"``, ``"pt-BR"``, ``"en_US"``, ``"cmn"`` (Mandarin),
        ``"zh-TW"`` (traditional characters); case does not matter.
    """
    code = (language or "en").strip().lower().replace("_", "-")
    if code in _LANGUAGE_ALIASES:
        code = _LANGUAGE_ALIASES[code]
    elif code.startswith("zh-") and "hant" in code:
        code = "zh-hant"
    if code not in DISCLOSURE_TEXTS:
        code = code.split("-")[0]
    return DISCLOSURE_TEXTS.get(_LANGUAGE_ALIASES.get(code, code), DISCLOSURE_TEXTS["en"])


def _disclosure_lines(given: str, max_chars: int) -> tuple[str, ...]:
    if not isinstance(given, str):
        raise UserInputError(f"the AI disclosure caption must be text, got {given!r}")
    text = " ".join(given.split())
    if not text:
        raise UserInputError(f"the AI disclosure caption {given!r} is empty; give a sentence such as "
                             f"{DISCLOSURE_TEXTS['en']!r}, or leave it out for the default")
    for i, ch in enumerate(text, start=1):
        if unicodedata.category(ch) in ("Cc", "Cf"):
            raise UserInputError(
                f"the AI disclosure caption {text!r} has an invisible control character "
                f"U+{ord(ch):04X} at position {i}; remove it"
            )
    units: list[_Unit] = []
    for k, word in enumerate(text.split(" ")):
        units.extend(_split_long(_Unit(word, k > 0, 0.0, 1.0), max_chars))
    lines = _balanced_lines(units, max_chars, 2)
    if lines is None:
        raise UserInputError(
            f"the AI disclosure caption {text!r} needs more than two lines of {max_chars} "
            "characters; shorten it"
        )
    if is_right_to_left(text):
        lines = [RLM + line for line in lines]
    return tuple(lines)


def with_disclosure(
    cues: Sequence[Cue],
    *,
    text: str | None = None,
    language: str | None = None,
    seconds: float = DISCLOSURE_SECONDS,
    duration: float | None = None,
    max_chars: int = 42,
) -> list[Cue]:
    """Cues with an AI disclosure shown first, for the first ``seconds`` of the video.

    Speech captions keep their timing (moving them would put them out of step with the voice):

    - speech starts at or after ``seconds``, or there is none: the disclosure alone over
      ``[0, seconds]``;
    - speech starts at or after :data:`MIN_ALONE_SECONDS` (1 s) but before ``seconds``: the
      disclosure alone over ``[0, first cue start]``, long enough to read;
    - speech starts sooner: the disclosure is the top line of every cue that starts before
      ``seconds``, the first of them from 0, each held until the next one starts (the last until
      ``seconds`` or the next cue). The disclosure line thus stays put, never flickering, and the
      spoken words appear under it at their own time.

    Parameters
    ----------
    cues : sequence of Cue
        From :func:`make_cues`: in time order, non-overlapping.
    text : str or None, keyword-only
        The disclosure; ``None`` means :func:`disclosure_text` of ``language``. Wrapped into at
        most two lines of ``max_chars`` columns.
    language : str or None, keyword-only
        Language code for the default text (English when it has none).
    seconds : float, keyword-only
        How long the disclosure stays up, > 0.
    duration : float or None, keyword-only
        Length of the video, seconds: no cue ends after it.
    max_chars : int, keyword-only
        Longest line in screen columns, as for :func:`make_cues`.

    Returns
    -------
    list of Cue
        The disclosure first (alone, or as the first line), then the rest; still in time order
        and non-overlapping.

    Raises
    ------
    UserInputError
        ``seconds`` is not a positive finite number, or ``text`` is empty, holds a control
        character, or needs more than two lines.
    """
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise UserInputError(f"the AI disclosure duration seconds={seconds!r} must be a positive "
                             f"number of seconds, e.g. {DISCLOSURE_SECONDS}")
    lines = _disclosure_lines(disclosure_text(language) if text is None else text, max_chars)
    end_of_video = math.inf if duration is None else max(0.0, float(duration))
    cues = list(cues)
    first = cues[0].start if cues else math.inf
    if first >= MIN_ALONE_SECONDS:
        return [Cue(0.0, min(seconds, first, end_of_video), lines)] + cues

    out: list[Cue] = []
    k = 0
    while k < len(cues) and cues[k].start < seconds:
        cue = cues[k]
        nxt = cues[k + 1].start if k + 1 < len(cues) else math.inf
        hold = nxt if nxt < seconds else seconds
        out.append(Cue(0.0 if k == 0 else cue.start, min(max(cue.end, hold), end_of_video),
                       lines + cue.lines))
        k += 1
    return out + cues[k:]


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _write_atomic(path: str | os.PathLike, text: str) -> None:
    path = Path(path)
    if not path.parent.is_dir():
        raise UserInputError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist; create it first"
        )
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


def _clean_line(line: str) -> str:
    # "-->" inside cue text would read as a timing line to some players.
    return line.replace("-->", "->")


def write_srt(cues: Iterable[Cue], path: str | os.PathLike) -> None:
    """Write cues as a SubRip (.srt) file, UTF-8, times like ``00:00:01,234``.

    Parameters
    ----------
    cues : iterable of Cue
    path : str or PathLike
        Written atomically (temporary file in the same folder, then renamed).
    """
    blocks = []
    for n, cue in enumerate(cues, start=1):
        blocks.append(
            f"{n}\n{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}\n"
            + "\n".join(_clean_line(line) for line in cue.lines)
            + "\n"
        )
    _write_atomic(path, "\n".join(blocks))


def write_vtt(cues: Iterable[Cue], path: str | os.PathLike) -> None:
    """Write cues as a WebVTT (.vtt) file, UTF-8, times like ``00:00:01.234``.

    Parameters
    ----------
    cues : iterable of Cue
    path : str or PathLike
        Written atomically (temporary file in the same folder, then renamed).
    """
    def escape(line: str) -> str:
        # WebVTT cue text is markup: & and < must be escaped.
        return _clean_line(line).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    blocks = ["WEBVTT\n"]
    for cue in cues:
        blocks.append(
            f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}\n"
            + "\n".join(escape(line) for line in cue.lines)
            + "\n"
        )
    _write_atomic(path, "\n".join(blocks))
