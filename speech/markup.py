"""Inline pronunciation markup: ``{written|pronunciation}``.

``{Nguyen|ŋwiən}`` is spoken as the IPA ``ŋwiən`` (a pronunciation with a symbol
only IPA uses, like ŋ ə ʃ ˈ, or one written between slashes, ``{Nguyen|/nwin/}``, is IPA); ``{Nguyen|new win}``
is a respelling, spoken as those words. Captions always show the written part.
The lexicon and the number/abbreviation readings (:mod:`speech.readings`) use the
same mechanism, so every engine applies them the same way.

Escapes: a backslash before one of ``\\ { } | [ ] < >`` makes that character plain text,
shown and spoken as written, never markup of any kind (``\\[pause 1s\\]`` says "pause 1s");
:func:`escape` writes a text that way (``podium batch`` does it to every CSV value). A
backslash before anything else is just a backslash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podium.common.errors import ScriptError
from podium.speech.phonetic import check_ipa

PRONUNCIATION = re.compile(r"\{([^{}|\n]*)\|([^{}|\n]*)\}")
#: Characters only IPA uses (not letters of any common spelling): one of them makes a
#: pronunciation IPA; otherwise it is a respelling ("zum Beispiel", "Señor", "5 dollars").
IPA_ONLY = set("ˈˌːəɚɪɛæʌɑɒɔʊɐɨɯθðʃʒŋɲʎɹɾʁʔɡ")

#: Characters a backslash makes plain text (see the module's docstring).
ESCAPABLE = "\\{}|[]<>"
ESCAPED = re.compile(r"\\([\\{}|\[\]<>])")
# While a script is parsed, an escaped character is a private-use stand-in (U+E000 plus its
# code) that no markup pattern matches; pieces() turns it back into the character.
_HIDE = {c: chr(0xE000 + ord(c)) for c in ESCAPABLE}
_SHOW = {v: k for k, v in _HIDE.items()}


def escape(text: str) -> str:
    """``text`` with a backslash before every markup character: it reads as plain text."""
    return re.sub(r"[\\{}|\[\]<>]", lambda m: "\\" + m.group(0), text)


def hide_escapes(text: str) -> str:
    """Each ``\\{``... of ``text`` as its stand-in (done first by :func:`speech.script.parse_script`)."""
    return ESCAPED.sub(lambda m: _HIDE[m.group(1)], text)


def show_escapes(text: str, *, spoken: bool = False) -> str:
    """Stand-ins back to their characters. ``spoken``: an escaped bracket next to another
    bracket gets a space between, so that it never opens an engine's ``[[...]]`` block."""
    if not any(c in _SHOW for c in text):
        return text
    out: list[str] = []
    prev_escaped = False
    for c in text:
        escaped = c in _SHOW
        ch = _SHOW.get(c, c)
        if spoken and ch in "[]" and out and out[-1] == ch and (escaped or prev_escaped):
            out.append(" ")
        out.append(ch)
        prev_escaped = escaped
    return "".join(out)


@dataclass(frozen=True)
class Piece:
    """A stretch of text as written (for captions) and as it is to be spoken.

    ``spoken`` is plain text, or ``[[IPA]]`` (see :mod:`speech.phonetic`).
    """

    written: str
    spoken: str


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def is_ipa(pronunciation: str) -> bool:
    p = pronunciation.strip()
    # IPA Extensions and spacing modifier letters (U+0250-U+02FF) are IPA whatever they are.
    return (len(p) > 2 and p.startswith("/") and p.endswith("/")) or any(
        c in IPA_ONLY or 0x250 <= ord(c) <= 0x2FF for c in p)


def spoken_form(pronunciation: str) -> str:
    """What an engine is given for a pronunciation: ``[[IPA]]`` or the respelling."""
    p = pronunciation.strip()
    if is_ipa(p):
        return "[[" + p.strip("/").replace(".", "") + "]]"
    return p


def check_pronunciations(text: str) -> None:
    """Raise :class:`ScriptError` (with line and column) for malformed ``{...|...}`` markup."""
    stripped = PRONUNCIATION.sub(lambda m: " " * len(m.group(0)), text)
    for m in PRONUNCIATION.finditer(text):
        written, pron = m.group(1).strip(), m.group(2).strip()
        line, col = _line_col(text, m.start())
        if not written or not pron:
            raise ScriptError(f"pronunciation markup {m.group(0)!r} at line {line}, column {col} needs "
                              "both parts, like {Nguyen|ŋwiən} or {Nguyen|new win}")
        if is_ipa(pron):
            bad = check_ipa(pron.strip("/").replace(".", ""))
            if bad is not None:
                raise ScriptError(f"'{bad}' in {m.group(0)!r} at line {line}, column {col} is not an IPA "
                                  "sound Podium knows; write IPA like ŋwiən, or a respelling in letters")
    for ch in "{}":
        at = stripped.find(ch)
        # "{{" is a variable (speech.variables), checked elsewhere.
        while at >= 0 and stripped[at:at + 2] in ("{{", "}}"):
            at = stripped.find(ch, at + 2)
        if at >= 0:
            line, col = _line_col(text, at)
            raise ScriptError(f"unmatched {ch!r} at line {line}, column {col}; write a pronunciation "
                              "like {Nguyen|ŋwiən}")


def pieces(text: str) -> list[Piece]:
    """``text`` cut into plain pieces and pronunciation pieces, in order."""
    out, pos = [], 0
    for m in PRONUNCIATION.finditer(text):
        if m.start() > pos:
            out.append(_plain(text[pos:m.start()]))
        out.append(Piece(show_escapes(m.group(1).strip()),
                         spoken_form(show_escapes(m.group(2), spoken=True))))
        pos = m.end()
    if pos < len(text):
        out.append(_plain(text[pos:]))
    return out


def _plain(text: str) -> Piece:
    return Piece(show_escapes(text), show_escapes(text, spoken=True))


_PHONEME_BLOCK = re.compile(r"\[\[.*?\]\]")


def respell_outside_markup(text: str, pattern: re.Pattern, make) -> str:
    """Replace each match of ``pattern`` with ``make(match)``, except matches that start
    inside existing pronunciation markup or a ``[[...]]`` block (the lexicon and the
    readings never respell what the author already spelled)."""
    protected = [(m.start(), m.end()) for m in PRONUNCIATION.finditer(text)]
    protected += [(m.start(), m.end()) for m in _PHONEME_BLOCK.finditer(text)]
    out, pos = [], 0
    for m in pattern.finditer(text):
        if any(a <= m.start() < b for a, b in protected):
            continue
        out.append(text[pos:m.start()])
        out.append(make(m))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def written(text: str) -> str:
    """The text as captions show it: every ``{written|pronunciation}`` becomes ``written``."""
    return "".join(p.written for p in pieces(text))


def mask_pronunciations(text: str) -> str:
    """``text`` with the inside of pronunciation markup blanked (same length), so that a
    "." in ``{Dr.|Doctor}`` is never taken for a sentence end."""
    return PRONUNCIATION.sub(lambda m: "{" + "x" * (len(m.group(0)) - 2) + "}", text)


def remap_words(words, pieces_: list[Piece]):
    """Words timed on the spoken text, turned back into the written words.

    Parameters
    ----------
    words : sequence of Word
        As an engine returned them for ``"".join(p.spoken for p in pieces_)``:
        the written tokens of that text (:func:`speech.espeak_timing.written_tokens`)
        in order, punctuation-only ones possibly left out.
    pieces_ : list of Piece

    Returns
    -------
    list of Word
        The written words: a plain piece keeps its words; a pronunciation piece's
        written words share the time of its spoken words.
    """
    from podium.speech.espeak_timing import written_tokens
    from podium.speech.utterance import Word

    spoken = "".join(p.spoken for p in pieces_)
    bounds, pos = [], 0
    for p in pieces_:
        bounds.append((pos, pos + len(p.spoken)))
        pos += len(p.spoken)
    tokens = written_tokens(spoken)
    # Pair engine words with tokens in order (an unspoken punctuation token is skipped).
    owner: list[int] = []
    k = 0
    for w in words:
        while k < len(tokens) and spoken[tokens[k][0]:tokens[k][1]] != w.text and not \
                spoken[tokens[k][0]:tokens[k][1]].startswith("[["):
            if k + 1 < len(tokens) and spoken[tokens[k + 1][0]:tokens[k + 1][1]] == w.text:
                k += 1
                continue
            break
        start = tokens[min(k, len(tokens) - 1)][0] if tokens else 0
        owner.append(next((i for i, (a, b) in enumerate(bounds) if a <= start < b), len(pieces_) - 1))
        k += 1
    out = []
    for i, p in enumerate(pieces_):
        mine = [w for w, o in zip(words, owner) if o == i]
        if p.written == p.spoken:
            out.extend(mine)
            continue
        labels = [p.written[a:b] for a, b in written_tokens(p.written)]
        if not labels:
            continue
        if mine:
            lo, hi = mine[0].start, mine[-1].end
        else:
            lo = hi = out[-1].end if out else 0.0
        step = (hi - lo) / len(labels)
        out.extend(Word(lab, lo + j * step, lo + (j + 1) * step) for j, lab in enumerate(labels))
    return out
