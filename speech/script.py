"""Parse a script into sentences to speak and silences to insert.

Markup: ``[pause 1.5s]`` or ``[pause 500ms]`` inserts exactly that much
silence (at most :data:`MAX_PAUSE_S`). Besides that, a sentence end gives
:data:`SENTENCE_PAUSE_S` of silence and a blank line :data:`PARAGRAPH_PAUSE_S`.
Where pauses meet, an explicit ``[pause]`` replaces the natural ones, so the
silence is what the author wrote; several explicit pauses add up.

A script is bounded before it is parsed: at most :data:`MAX_SCRIPT_CHARS` characters, and
its pauses plus an estimate of its spoken time (:func:`estimated_seconds`) at most the
longest video (:func:`podium.common.media.max_video_seconds`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Union

from podium.common.errors import ScriptError
from podium.common.media import env_limit, format_duration, max_video_seconds, video_length_hint
from podium.speech.markup import check_pronunciations, hide_escapes, mask_pronunciations, show_escapes
from podium.speech.variables import find_placeholders

SENTENCE_PAUSE_S = 0.35
PARAGRAPH_PAUSE_S = 0.8
MAX_PAUSE_S = 10.0
#: Longest script, characters ($PODIUM_MAX_SCRIPT_CHARS raises it).
MAX_SCRIPT_CHARS = 100_000
#: A fast speaker's characters per second (about 240 words a minute): spoken time is
#: estimated at this rate, so the estimate errs short and refuses only what is surely too long.
FAST_CHARS_PER_S = 20.0

_MARKUP_EXAMPLE = "write it like [pause 1.5s] or [pause 500ms]"


@dataclass(frozen=True)
class TextSegment:
    """Text to synthesise in one go.

    Attributes
    ----------
    text : str
        One sentence, or the part of one between two ``[pause]`` markups;
        whitespace collapsed to single spaces.
    ends_sentence : bool
        False when a ``[pause]`` or a ``[rate]`` change cut the sentence and the
        next TextSegment continues it.
    rate : float or None
        Speaking rate relative to the call's (``[rate 80%]...[/rate]``); None is 1.
        The text may hold ``{written|pronunciation}`` markup (:mod:`speech.markup`).
    """

    text: str
    ends_sentence: bool = True
    rate: float | None = None


@dataclass(frozen=True)
class PauseSegment:
    """Silence between texts.

    Attributes
    ----------
    seconds : float
        Length of the silence, 0 < seconds.
    """

    seconds: float


Segment = Union[TextSegment, PauseSegment]

# "[pause", "[rate" or "[/rate" starts markup; anything up to "]" on the same line is its argument.
_PAUSE_START = re.compile(r"\[\s*(pause|rate|/rate)\b", re.IGNORECASE)
_RATE_WORDS = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "normal": 1.0, "fast": 1.25, "x-fast": 1.5}
MIN_RATE, MAX_RATE = 0.5, 2.0
_PAUSE_VALUE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*$", re.IGNORECASE)
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")

_CLOSERS = "\"'”’»)]}」』）】"
# Latin-style ends need whitespace after them ("3.5" and "e.g.x" are not ends);
# CJK full stops need nothing after them because those scripts use no spaces.
_SENTENCE_END = re.compile(
    rf"(?:[.!?…]+[{re.escape(_CLOSERS)}]*(?=\s|$))|(?:[。！？｡]+[{re.escape(_CLOSERS)}]*)"
)
_NEXT_WORD = re.compile(r"\s*(\S*)")
# A "." after these is usually not a sentence end.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs mt no nr fig approx dept est "
    "hr fr herr frau sra sr srta mme mlle m".split()
)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _is_speakable(text: str) -> bool:
    text = show_escapes(text)
    return any(not (c.isspace() or unicodedata.category(c).startswith("P")) for c in text)


# "am 3. Mai", "le 1. janvier" (rare), "el 3. de mayo": a day number with a full stop
# before a month is an ordinal date (German style), not a sentence end.
_MONTHS = frozenset(
    "januar jänner februar märz april mai juni juli august september oktober november dezember "
    "jan feb mär apr jun jul aug sep sept okt nov dez "
    "january march may june july october december mar oct dec "
    "janvier février mars avril juin juillet août septembre octobre novembre décembre "
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre "
    "de".split()
)


def _is_ordinal_date(before: str, following: str) -> bool:
    # Only the words next to the mark are split off, so a long paragraph stays linear.
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    nxt = following.split(None, 1)[0].strip(",.;:").lower() if following.strip() else ""
    return word.isdigit() and 1 <= int(word) <= 31 and nxt in _MONTHS


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.lstrip(_CLOSERS + "([{\"'“‘«").rstrip(".")
    if not word:
        return False
    if "." in word:  # "e.g", "z.B", "U.S"
        return True
    if len(word) == 1 and word.isalpha():  # an initial: "J. Smith"
        return True
    return word.lower() in _ABBREVIATIONS


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences.

    Parameters
    ----------
    paragraph : str
        Text without markup or blank lines.

    Returns
    -------
    list of str
        Sentences with whitespace collapsed; the last one may lack an end mark.
    """
    out = []
    start = 0
    # A "." inside {Dr.|Doctor} is part of a pronunciation, never a sentence end.
    for m in _SENTENCE_END.finditer(mask_pronunciations(paragraph)):
        mark = m.group(0)
        if mark.startswith(".") and not mark.startswith("..."):
            if _is_abbreviation(paragraph[start : m.start()]):
                continue
            following = _NEXT_WORD.match(paragraph, m.end()).group(1)
            if _is_ordinal_date(paragraph[start : m.start()], following):
                continue
            # "co. ltd" or "approx. ten": a lower-case word does not start a sentence.
            if following[:1].islower():
                continue
        out.append(paragraph[start : m.end()])
        start = m.end()
    out.append(paragraph[start:])
    return [" ".join(s.split()) for s in out if s.split()]


def _parse_pause(text: str, start: int) -> tuple[float, int]:
    """Parse the ``[pause ...]`` starting at ``start``; return (seconds, end offset)."""
    line, col = _line_col(text, start)
    close = text.find("]", start)
    newline = text.find("\n", start)
    if close < 0 or (0 <= newline < close):
        snippet = text[start : newline if newline >= 0 else len(text)].strip()
        raise ScriptError(
            f"unclosed pause markup {snippet!r} at line {line}, column {col}; "
            f"{_MARKUP_EXAMPLE}"
        )
    markup = text[start : close + 1]
    arg = text[_PAUSE_START.match(text, start).end() : close]
    m = _PAUSE_VALUE.match(arg)
    if m is None:
        raise ScriptError(
            f"bad pause markup {markup!r} at line {line}, column {col}; "
            f"give the length in seconds or milliseconds: {_MARKUP_EXAMPLE}"
        )
    value = float(m.group(1))
    seconds = value / 1000.0 if m.group(2).lower() == "ms" else value
    if seconds > MAX_PAUSE_S:
        raise ScriptError(
            f"pause markup {markup!r} at line {line}, column {col} is too long; "
            f"the longest pause is {MAX_PAUSE_S:g} s; for more, write several in a row, "
            f"like [pause {MAX_PAUSE_S:g}s] [pause 5s]"
        )
    return seconds, close + 1


def _parse_rate(text: str, start: int) -> tuple[float | None, int]:
    """Parse ``[rate 80%]`` (or ``[/rate]``) at ``start``; return (rate or None for the end, end offset)."""
    line, col = _line_col(text, start)
    close = text.find("]", start)
    newline = text.find("\n", start)
    if close < 0 or (0 <= newline < close):
        raise ScriptError(f"unclosed rate markup at line {line}, column {col}; write it like "
                          "[rate 80%]slower words[/rate]")
    markup = text[start:close + 1]
    head = _PAUSE_START.match(text, start)
    if head.group(1).lower() == "/rate":
        return None, close + 1
    arg = text[head.end():close].strip().lower()
    value = _RATE_WORDS.get(arg)
    if value is None:
        m = re.match(r"^(\d+(?:\.\d*)?|\.\d+)\s*(%?)$", arg)
        if m:
            value = float(m.group(1)) / (100.0 if m.group(2) else 1.0)
    if value is None or not MIN_RATE <= value <= MAX_RATE:
        raise ScriptError(f"bad rate markup {markup!r} at line {line}, column {col}; give 50% to 200% "
                          "(or slow, fast...), like [rate 80%]slower words[/rate]")
    return value, close + 1


def max_script_chars() -> int:
    """The longest script, characters (:data:`MAX_SCRIPT_CHARS`, or $PODIUM_MAX_SCRIPT_CHARS)."""
    return int(env_limit("PODIUM_MAX_SCRIPT_CHARS", MAX_SCRIPT_CHARS))


def estimated_seconds(segments) -> float:
    """How long ``segments`` last at least: every pause, plus each text's characters at
    :data:`FAST_CHARS_PER_S` (times its ``[rate]``)."""
    total = 0.0
    for seg in segments:
        if isinstance(seg, PauseSegment):
            total += seg.seconds
        else:
            total += len(seg.text) / (FAST_CHARS_PER_S * (seg.rate or 1.0))
    return total


def check_duration(segments, *, what: str = "the script") -> float:
    """:func:`estimated_seconds` of ``segments``, or :class:`ScriptError` past the longest video."""
    seconds = estimated_seconds(segments)
    if seconds > max_video_seconds():
        pauses = sum(seg.seconds for seg in segments if isinstance(seg, PauseSegment))
        raise ScriptError(
            f"{what} would last at least {format_duration(seconds)} ({format_duration(pauses)} "
            f"of pauses, {format_duration(seconds - pauses)} of speech at a fast pace); "
            f"{video_length_hint()}; split it into several videos")
    return seconds


def _check_length(text: str) -> None:
    limit = max_script_chars()
    if len(text) > limit:
        raise ScriptError(f"the script is {len(text):,} characters; the longest is {limit:,} (set "
                          "PODIUM_MAX_SCRIPT_CHARS for more); split it into several videos")


#: Characters no script needs that change what is heard or shown without being seen: C0/C1
#: controls (NUL cut the audio short while the captions kept the sentence), bidi overrides,
#: embeddings and isolates. Tab and line breaks are fine.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_characters(text: str) -> str:
    """The script as every later step reads it: a byte-order mark dropped, Unicode line and
    paragraph separators as line breaks; control and direction-override characters refused.

    Raises
    ------
    ScriptError
        Names the character (U+XXXX) with its line and column.
    """
    text = text.lstrip("\ufeff").replace("\ufeff", "")  # a BOM, or a zero-width no-break space
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n\n").replace("\x85", "\n")
    bad = _INVISIBLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise ScriptError(f"the script has an invisible control character U+{ord(bad.group()):04X} at line "
                          f"{line}, column {column}; remove it (it would be heard or shown differently "
                          "from what you see)")
    return text


def parse_script(text: str) -> tuple[Segment, ...]:
    """Turn script text into texts to speak and silences between them.

    Parameters
    ----------
    text : str
        The script: plain text in any language espeak-ng speaks, with optional
        ``[pause 1.5s]`` / ``[pause 500ms]`` markup. A blank line separates
        paragraphs. A backslash makes a markup character plain (``\\[``, ``\\{``...;
        see :mod:`speech.markup`).

    Returns
    -------
    tuple of Segment
        :class:`TextSegment` and :class:`PauseSegment` in speaking order, at
        least one TextSegment, never two PauseSegments in a row. Natural pauses
        at the very start or end are dropped; explicit ones are kept.

    Raises
    ------
    ScriptError
        The script has nothing to speak, has bad ``[pause]`` markup (the
        message gives line and column), is over :data:`MAX_SCRIPT_CHARS`, or
        would make a video longer than the longest (:func:`check_duration`).
    """
    if not isinstance(text, str):
        raise ScriptError(f"the script must be text, got {type(text).__name__}")
    _check_length(text)
    text = clean_characters(text)
    from podium.speech.ssml import is_ssml, ssml_to_script

    text = hide_escapes(text)  # "\\[" and the like are plain characters from here on
    if is_ssml(text):
        text = ssml_to_script(text)
    check_pronunciations(text)
    placeholders = find_placeholders(text)
    if placeholders:
        first = placeholders[0]
        raise ScriptError(
            f"variable {{{{{first.name}}}}} at line {first.line}, column {first.column} is not "
            "filled; give its value (podium batch --rows people.csv) or remove it"
        )
    # Raw items: ("text", str, ends_sentence) | ("natural", s) | ("explicit", s)
    items: list[tuple] = []

    def add_text(chunk: str, closed_by_markup: bool, rate: float | None = None) -> None:
        paragraphs = _PARAGRAPH.split(chunk)
        for pi, para in enumerate(paragraphs):
            if pi > 0:
                items.append(("natural", PARAGRAPH_PAUSE_S))
            sentences = split_sentences(para)
            for si, sentence in enumerate(sentences):
                if si > 0:
                    items.append(("natural", SENTENCE_PAUSE_S))
                last_of_chunk = pi == len(paragraphs) - 1 and si == len(sentences) - 1
                # Text cut by [pause] ends its sentence only if it has an end
                # mark; otherwise the text after the pause continues it.
                ends = not (last_of_chunk and closed_by_markup) or bool(
                    _SENTENCE_END.search(sentence[-3:] + " ")
                )
                items.append(("text", sentence, ends, rate))

    pos = 0
    rate: float | None = None
    rate_open_at = -1
    paused, longest = 0.0, max_video_seconds()
    for m in _PAUSE_START.finditer(text):
        if m.start() < pos:
            continue
        add_text(text[pos : m.start()], closed_by_markup=True, rate=rate)
        if m.group(1).lower() == "pause":
            seconds, pos = _parse_pause(text, m.start())
            items.append(("explicit", seconds))
            paused += seconds
            if paused > longest:  # stop as soon as the pauses alone are too long
                raise ScriptError(f"the script's [pause] markup adds up to over "
                                  f"{format_duration(longest)}; {video_length_hint()}; split it "
                                  "into several videos")
            continue
        value, pos = _parse_rate(text, m.start())
        if value is None:
            if rate is None:
                line, col = _line_col(text, m.start())
                raise ScriptError(f"[/rate] at line {line}, column {col} closes nothing; open it with "
                                  "[rate 80%]")
            rate = None
        else:
            if rate is not None:
                line, col = _line_col(text, m.start())
                raise ScriptError(f"rate markup at line {line}, column {col} opens inside another; "
                                  "close the first with [/rate]")
            rate, rate_open_at = value, m.start()
    if rate is not None:
        line, col = _line_col(text, rate_open_at)
        raise ScriptError(f"the [rate] markup at line {line}, column {col} is never closed; end it "
                          "with [/rate]")
    add_text(text[pos:], closed_by_markup=False)

    # Drop text with nothing to say ("...", "—"); its sentence end still counts.
    cleaned: list[tuple] = []
    for item in items:
        if item[0] == "text" and not _is_speakable(item[1]):
            if item[2]:
                for j in range(len(cleaned) - 1, -1, -1):
                    if cleaned[j][0] == "text":
                        cleaned[j] = ("text", cleaned[j][1], True, cleaned[j][3])
                        break
            continue
        cleaned.append(item)

    if not any(item[0] == "text" for item in cleaned):
        raise ScriptError(
            "the script is empty; write some text to speak "
            "([pause] markup alone makes no speech)"
        )

    segments: list[Segment] = []
    run: list[tuple] = []

    def flush_pauses(at_edge: bool) -> None:
        explicit = [s for kind, s in run if kind == "explicit"]
        if explicit:
            seconds = sum(explicit)
        elif at_edge:
            seconds = 0.0
        else:
            seconds = max((s for _, s in run), default=0.0)
        if seconds > 0:
            segments.append(PauseSegment(seconds))
        run.clear()

    for item in cleaned:
        if item[0] == "text":
            if run:
                flush_pauses(at_edge=not segments)
            prev = segments[-1] if segments else None
            if isinstance(prev, TextSegment) and prev.ends_sentence:
                # Two sentences with no pause item between them cannot happen,
                # but keep the sentence gap if it ever does.
                segments.append(PauseSegment(SENTENCE_PAUSE_S))
            elif isinstance(prev, TextSegment) and prev.rate == item[3]:
                segments[-1] = TextSegment(prev.text + " " + item[1], item[2], item[3])
                continue
            segments.append(TextSegment(item[1], item[2], item[3]))
        else:
            run.append(item[:2])
    if run:
        flush_pauses(at_edge=True)
    last = max(i for i, s in enumerate(segments) if isinstance(s, TextSegment))
    if not segments[last].ends_sentence:
        segments[last] = TextSegment(segments[last].text, True, segments[last].rate)
    check_duration(segments)
    return tuple(segments)
