"""Pronunciation lexicon: word -> pronunciation (IPA or a respelling), applied by every
voice. A user lexicon lives in ``$PODIUM_HOME/lexicon.json``; an avatar may carry its
own (``lexicon.json`` in its folder), whose entries win. Captions keep the written word.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from podium.common.errors import ScriptError, UserInputError
from podium.common.files import atomic_path
from podium.speech.markup import check_pronunciations, respell_outside_markup

FILE_NAME = "lexicon.json"
FORMAT_VERSION = 1
_WORD_OK = re.compile(r"^[\w][\w'’.\-]*$", re.UNICODE)
MAX_WORD, MAX_PRONUNCIATION = 64, 200
#: Markup and control characters: a pronunciation is said, never parsed.
_NOT_SPOKEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff<>{}\[\]|&\\`]")


@dataclass
class Lexicon:
    """Entries by lower-cased word (mutable: ``add``/``remove`` then ``save``)."""

    entries: dict = field(default_factory=dict)

    @staticmethod
    def load(path: str | Path, *, check: bool = True) -> "Lexicon":
        """Read a lexicon file; a missing file is an empty lexicon.

        ``check=False`` reads the entries as they are (to remove a bad one).

        Raises
        ------
        UserInputError
            The file is not a Podium lexicon.
        """
        path = Path(path)
        if not path.is_file():
            return Lexicon()
        try:
            data = json.loads(path.read_text("utf-8"))
            entries = data["entries"]
            if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise UserInputError(f"'{path}' is not a Podium lexicon (JSON with an 'entries' object); "
                                 "fix or delete it") from None
        if not check:
            return Lexicon({k.lower(): v for k, v in entries.items()})
        lexicon = Lexicon()
        for word, pronunciation in entries.items():
            try:
                lexicon.add(word, pronunciation)
            except UserInputError as exc:
                # A hand-edited entry: one clear error naming it, not a failure deep in synthesis.
                raise UserInputError(f"'{path}' has a bad entry for {word!r}: {exc}; fix it or run "
                                     f"`podium lexicon remove {word}`") from None
        return lexicon

    def save(self, path: str | Path) -> None:
        """Write atomically, sorted by word."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps({"version": FORMAT_VERSION, "entries": dict(sorted(self.entries.items()))},
                                      ensure_ascii=False, indent=1) + "\n", "utf-8")

    def add(self, word: str, pronunciation: str) -> None:
        """Add or replace an entry.

        Raises
        ------
        UserInputError
            ``word`` is not one word, or the pronunciation is empty or has
            symbols Podium cannot speak (the message says which).
        """
        word = word.strip()
        if not _WORD_OK.fullmatch(word):
            raise UserInputError(f"lexicon entries are single words; {word!r} is not (no spaces or markup)")
        pronunciation = " ".join(str(pronunciation).split())
        if len(word) > MAX_WORD or len(pronunciation) > MAX_PRONUNCIATION:
            raise UserInputError(f"lexicon entries are at most {MAX_WORD} characters a word and "
                                 f"{MAX_PRONUNCIATION} a pronunciation")
        bad = _NOT_SPOKEN.search(pronunciation)
        if bad is not None:
            raise UserInputError(f"pronunciation {pronunciation!r} may not contain {bad.group()!r}: give "
                                 "IPA or a respelling in plain letters")
        try:
            check_pronunciations("{" + word + "|" + pronunciation + "}")
        except ScriptError as exc:
            raise UserInputError(str(exc).replace(" at line 1, column 1", "")) from None
        if "{" in pronunciation or "}" in pronunciation or "|" in pronunciation:
            raise UserInputError(f"pronunciation {pronunciation!r} may not contain {{, }} or |")
        self.entries[word.lower()] = pronunciation

    def remove(self, word: str) -> None:
        """Raises :class:`UserInputError` when the word has no entry."""
        if word.lower() not in self.entries:
            raise UserInputError(f"{word!r} is not in the lexicon; `podium lexicon list` shows the entries")
        del self.entries[word.lower()]

    def merged(self, other: "Lexicon") -> "Lexicon":
        """This lexicon with ``other``'s entries on top."""
        return Lexicon({**self.entries, **other.entries})

    def apply(self, text: str) -> str:
        """Wrap every whole-word occurrence (any case) as ``{Word|pronunciation}``, outside
        existing pronunciation markup and ``[[...]]`` blocks."""
        if not self.entries:
            return text
        words = sorted(self.entries, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w'’])(" + "|".join(re.escape(w) for w in words) + r")(?![\w'’])",
                             re.IGNORECASE)
        return respell_outside_markup(
            text, pattern, lambda m: "{" + m.group(0) + "|" + self.entries[m.group(0).lower()] + "}")
