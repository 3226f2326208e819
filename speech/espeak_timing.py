"""Turn espeak-ng's raw events for one text into phone and word timings.

What espeak reports (checked on en, de, fr, es, ja, cmn with espeak-ng 1.52):

* phoneme events carry the IPA name, stress marks included ("ˈoʊ"); a pause
  is a phoneme event with an empty name; a switch to another language's
  phonemes (kanji read as English by the ``ja`` voice) is a pseudo phoneme
  "(en)" ... "(ja)".
* a phoneme has no end; it lasts until the next phoneme or end event.
* word events give ``text_position`` as a 1-based index in Unicode code
  points. espeak splits some written words into several events ("$5.50",
  "1999"), skips others ("well-known" has one event, "你好" has one event at
  "你"), and now and then points at the space before a word.

So the written words are cut from the text here and espeak's word events are
only used to find which phones belong to which written word.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from podium.speech.espeak import EVENT_END, EVENT_MSG_TERMINATED, EVENT_PHONEME, EVENT_WORD, RawSynthesis

_STRESS = str.maketrans("", "", "ˈˌ'")


@dataclass(frozen=True)
class Timed:
    """A label with a span in samples; ``start <= end``."""

    label: str
    start: int
    end: int


@dataclass(frozen=True)
class AlignedText:
    """One synthesised text, trimmed to its first and last phone.

    Attributes
    ----------
    samples : numpy.ndarray
        int16, shape (n_samples,); sample 0 is the first phone's start.
    phones, words : tuple of Timed
        Spans in samples relative to ``samples``.
    """

    samples: np.ndarray
    phones: tuple[Timed, ...]
    words: tuple[Timed, ...]


def clean_phone(name: str) -> str | None:
    """IPA symbol without stress marks, or None for a pause or language switch."""
    if name.startswith("("):
        return None
    symbol = name.translate(_STRESS).strip()
    if not symbol or set(symbol) <= set("_:ː"):
        return None
    return symbol


def _unspaced(ch: str) -> bool:
    # Scripts written without spaces between words, where espeak's word
    # events are the only word boundaries there are.
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x31F0 <= o <= 0x31FF
        or 0x3400 <= o <= 0x4DBF  # CJK ideographs
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF66 <= o <= 0xFF9F  # half-width katakana
        or 0x20000 <= o <= 0x2FFFF
        or 0x0E00 <= o <= 0x0EFF  # thai, lao
        or 0x1000 <= o <= 0x109F  # myanmar
        or 0x1780 <= o <= 0x17FF  # khmer
    )


def _is_separator(ch: str) -> bool:
    if ch.isspace():
        return True
    cat = unicodedata.category(ch)
    # CJK punctuation has no space around it; dashes join nothing.
    if cat.startswith("P") and (ord(ch) >= 0x3000 or (cat == "Pd" and ch not in "-‐‑")):
        return True
    return False


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def written_tokens(text: str) -> list[tuple[int, int]]:
    """Spans (start, end), 0-based code points, of the written words of ``text``.

    Leading and trailing punctuation is not part of a word; a span of
    punctuation only is still returned (espeak may speak "&").
    """
    spans = []
    i, n = 0, len(text)
    while i < n:
        if _is_separator(text[i]):
            i += 1
            continue
        j = i
        while j < n and not _is_separator(text[j]):
            j += 1
        a, b = i, j
        while a < b and _is_punct(text[a]):
            a += 1
        while b > a and _is_punct(text[b - 1]):
            b -= 1
        spans.append((a, b) if a < b else (i, j))
        i = j
    return spans


def align(text: str, raw: RawSynthesis) -> AlignedText | None:
    """Phones and written words of ``text`` with their spans in samples.

    Parameters
    ----------
    text : str
        Exactly the text given to espeak.
    raw : RawSynthesis
        espeak's output for it.

    Returns
    -------
    AlignedText or None
        None when espeak spoke no phone at all.
    """
    n_total = len(raw.samples)
    events = sorted(
        (e for e in raw.events if e.kind in (EVENT_PHONEME, EVENT_WORD, EVENT_END, EVENT_MSG_TERMINATED)),
        key=lambda e: e.sample,  # stable: keeps espeak's order at equal samples
    )

    # A phone lasts until the next phoneme (pauses included) or end event.
    next_boundary = [n_total] * (len(events) + 1)
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        is_boundary = e.kind in (EVENT_PHONEME, EVENT_END, EVENT_MSG_TERMINATED)
        next_boundary[i] = e.sample if is_boundary else next_boundary[i + 1]

    # Phones, each tagged with the index of the word event it follows.
    phones: list[tuple[str, int, int, int]] = []
    word_events = []
    for i, ev in enumerate(events):
        if ev.kind == EVENT_WORD:
            word_events.append(ev)
            continue
        if ev.kind != EVENT_PHONEME:
            continue
        symbol = clean_phone(ev.name)
        if symbol is None:
            continue
        end = min(next_boundary[i + 1], n_total)
        if end <= ev.sample:
            continue
        phones.append((symbol, ev.sample, end, max(len(word_events) - 1, 0)))
    if not phones:
        return None

    offset = phones[0][1]
    stop = phones[-1][2]

    # Written words; split unspaced runs where espeak starts a word.
    spans = written_tokens(text)
    cuts = set()
    for ev in word_events:
        p = ev.text_position - 1
        if 0 < p < len(text) and _unspaced(text[p - 1]) and _unspaced(text[p]):
            cuts.add(p)
    split_spans = []
    for a, b in spans:
        inner = sorted(c for c in cuts if a < c < b)
        bounds = [a, *inner, b]
        split_spans.extend(zip(bounds, bounds[1:]))
    spans = split_spans

    # Word event -> written word: the one containing its position, else the
    # next one (espeak sometimes points at the space before a word); never
    # backwards, so words stay in script order.
    owner: list[int] = []
    k = 0
    for ev in word_events:
        p = ev.text_position - 1
        j = k
        while j < len(spans) and spans[j][1] <= p:
            j += 1
        if j >= len(spans):
            j = len(spans) - 1
        k = max(k, j)
        owner.append(k)

    word_phones: dict[int, list[tuple[int, int]]] = {}
    for _, start, end, wi in phones:
        if owner:
            word_phones.setdefault(owner[wi], []).append((start, end))
    event_sample: dict[int, int] = {}
    for ev, w in zip(word_events, owner):
        event_sample.setdefault(w, ev.sample)

    words = []
    prev_end = offset
    for w, (a, b) in enumerate(spans):
        label = text[a:b]
        if w in word_phones:
            start, end = word_phones[w][0][0], word_phones[w][-1][1]
        elif w in event_sample:
            start = end = event_sample[w]
        elif any(ch.isalnum() for ch in label):
            start = end = prev_end  # written but not spoken
        else:
            continue  # punctuation espeak did not speak
        start = min(max(start, prev_end), stop)
        end = min(max(end, start), stop)
        words.append(Timed(label, start - offset, end - offset))
        prev_end = end

    return AlignedText(
        samples=raw.samples[offset:stop],
        phones=tuple(Timed(s, a - offset, b - offset) for s, a, b, _ in phones),
        words=tuple(words),
    )
