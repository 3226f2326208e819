"""IPA pronunciations inside text: ``[[ŋwiən]]`` blocks that every engine can speak.

Scripts and the lexicon give pronunciations in IPA. espeak-ng takes phoneme
input between ``[[`` and ``]]`` in its own ASCII names (Kirshenbaum-like: "N" for
ŋ, "@" for ə), so :func:`to_espeak` rewrites IPA blocks for it and keeps a map
back to the original character positions (espeak reports word positions in the
text it was given). Piper takes IPA blocks as they are. Kokoro is driven by
espeak-ng's phonemes, so it follows espeak.
"""

from __future__ import annotations

import re

from podium.common.errors import ScriptError

#: IPA (longest first) -> espeak-ng phoneme names. English names; most are shared by
#: espeak's other languages.
IPA_TO_ESPEAK = {
    "tʃ": "tS", "dʒ": "dZ", "ts": "ts", "eɪ": "eI", "aɪ": "aI", "ɔɪ": "OI", "aʊ": "aU", "oʊ": "oU",
    "əʊ": "@U", "ɪə": "i@", "ɛə": "e@", "ʊə": "U@", "iː": "i:", "uː": "u:", "ɑː": "A:", "ɔː": "O:",
    "ɜː": "3:", "eː": "e:", "oː": "o:", "aː": "a:",
    "ˈ": "'", "ˌ": ",", "ə": "@", "ɚ": "3", "ɪ": "I", "ɛ": "E", "æ": "a", "ʌ": "V", "ɑ": "A:",
    "ɒ": "0", "ɔ": "O:", "ʊ": "U", "u": "u:", "i": "i", "e": "e", "o": "o", "a": "a", "ɐ": "a#",
    "y": "y", "ø": "Y", "œ": "W", "ɨ": "i", "ɯ": "u:",
    "p": "p", "b": "b", "t": "t", "d": "d", "k": "k", "ɡ": "g", "g": "g", "f": "f", "v": "v",
    "θ": "T", "ð": "D", "s": "s", "z": "z", "ʃ": "S", "ʒ": "Z", "h": "h", "x": "x", "ç": "C",
    "m": "m", "n": "n", "ŋ": "N", "ɲ": "n^", "l": "l", "ʎ": "l^", "ɹ": "r", "r": "r", "ɾ": "*",
    "ʁ": "r", "w": "w", "j": "j", "ʔ": "?", "ː": ":", " ": " ",
}
_KEYS = sorted(IPA_TO_ESPEAK, key=len, reverse=True)
BLOCK = re.compile(r"\[\[(.*?)\]\]", re.S)


def _symbols(ipa: str):
    """Split ``ipa`` into :data:`IPA_TO_ESPEAK` keys, longest first; yields (symbol, None)
    for each, or (None, char) at the first character no key covers, and stops there."""
    i = 0
    while i < len(ipa):
        key = next((k for k in _KEYS if ipa.startswith(k, i)), None)
        if key is None:
            yield None, ipa[i]
            return
        yield key, None
        i += len(key)


def check_ipa(ipa: str) -> str | None:
    """The first character of ``ipa`` Podium cannot speak, or None when all are known."""
    return next((bad for _, bad in _symbols(ipa) if bad is not None), None)


def ipa_to_espeak(ipa: str) -> str:
    """espeak-ng phoneme names for an IPA string.

    Raises
    ------
    ScriptError
        A symbol with no espeak equivalent (the message quotes it).
    """
    out = []
    for key, bad in _symbols(ipa):
        if bad is not None:
            raise ScriptError(f"'{bad}' in the pronunciation /{ipa}/ is not an IPA sound Podium knows; "
                              f"use symbols like ŋ w i ə n ˈ")
        out.append(IPA_TO_ESPEAK[key])
    return "".join(out)


def to_espeak(text: str) -> tuple[str, list[int]]:
    """``text`` with its ``[[IPA]]`` blocks in espeak's phoneme names.

    Returns
    -------
    converted : str
    origin : list of int
        For each character of ``converted`` (and one past its end), the index of
        the character of ``text`` it came from.
    """
    parts: list[str] = []
    origin: list[int] = []
    pos = 0
    for m in BLOCK.finditer(text):
        parts.append(text[pos:m.start()])
        origin.extend(range(pos, m.start()))
        inner = "[[" + ipa_to_espeak(m.group(1)) + "]]"
        parts.append(inner)
        origin.extend([m.start()] * 2 + [m.start() + 2] * (len(inner) - 4) + [m.end() - 2] * 2)
        pos = m.end()
    parts.append(text[pos:])
    origin.extend(range(pos, len(text) + 1))
    return "".join(parts), origin
