"""Is a script written in English? Kokoro's voices speak English only: German text given to
them comes out as German words read with English sounds, which no viewer wants. The check
counts how many of the script's words CMUdict (shipped with pocketsphinx, 126k words) knows."""

from __future__ import annotations

import functools
import re

#: Fewer English words than this share (of at least :data:`MIN_WORDS` words) is not English.
MIN_ENGLISH_SHARE = 0.5
MIN_WORDS = 5
#: English text of this many words or more has at least one of these; French or Spanish
#: sentences made of words CMUdict happens to know ("nous", "cours") have none.
FUNCTION_WORDS = frozenset(
    "the a an and or but of to in on at for with from by as is are was were be been it its it's "
    "this that these those you your we our i my me he she they them his her their not no do does "
    "did have has had will would can could should what which who how when where there here if so".split())
MIN_WORDS_FOR_FUNCTION_WORDS = 6
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    from pocketsphinx import get_model_path

    with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as f:
        return frozenset(line.split(" ", 1)[0].split("(")[0] for line in f)


def english_share(text: str) -> float | None:
    """Share of the words of ``text`` that are English words; None when it has fewer than
    :data:`MIN_WORDS` words written in letters (too short to tell)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    latin = sum(1 for ch in letters if ch.isascii() or "\u00c0" <= ch <= "\u024f")
    if latin < 0.5 * len(letters):
        return 0.0  # Chinese, Arabic, Cyrillic...: not English whatever its length
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return None
    if len(words) >= MIN_WORDS_FOR_FUNCTION_WORDS and not any(w in FUNCTION_WORDS for w in words):
        return 0.0
    known = _english_words()
    return sum(w in known for w in words) / len(words)
