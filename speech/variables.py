"""``{{variable}}`` placeholders in scripts, filled per recipient before speaking.

A placeholder that is not filled is an error, never spoken aloud: a video that
says "curly curly first name" to a customer is worse than no video.

A value is plain text, never markup: its ``{ } | [ ] < > \\`` are escaped
(:func:`speech.markup.escape`), so ``{Alice|you are fired}`` or ``[pause 10s]`` in a CSV
cell is shown and spoken as written. An escaped brace (``\\{``) is no placeholder either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from podium.common.errors import ScriptError
from podium.speech.markup import ESCAPED, escape
from podium.speech.ssml import is_ssml

#: ``{{ name }}``: letters, digits, ``_`` and ``-``; spaces inside the braces are allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]*)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class Placeholder:
    """One ``{{name}}`` in a script; ``line`` and ``column`` count from 1."""

    name: str
    line: int
    column: int


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _unescaped(template: str) -> str:
    """``template`` with each escape (``\\{``...) blanked, same length."""
    return ESCAPED.sub("  ", template)


def find_placeholders(template: str) -> list[Placeholder]:
    """All ``{{name}}`` placeholders of ``template`` in order.

    Raises
    ------
    ScriptError
        A placeholder with an empty or malformed name, or a ``{{`` never closed.
    """
    out = []
    template = _unescaped(template)
    for m in PLACEHOLDER.finditer(template):
        line, col = _line_col(template, m.start())
        name = m.group(1)
        if not _NAME.match(name):
            raise ScriptError(
                f"bad variable {m.group(0)!r} at line {line}, column {col}; a variable name is "
                "letters, digits and _, like {{first_name}}"
            )
        out.append(Placeholder(name, line, col))
    stripped = PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), template)
    for token in ("{{", "}}"):
        at = stripped.find(token)
        if at >= 0:
            line, col = _line_col(template, at)
            raise ScriptError(
                f"unmatched {token!r} at line {line}, column {col}; write variables like "
                "{{first_name}}"
            )
    return out


def variable_names(template: str) -> list[str]:
    """Distinct variable names of ``template``, in first-use order."""
    return list(dict.fromkeys(p.name for p in find_placeholders(template)))


def fill_variables(template: str, values: Mapping[str, object]) -> str:
    """Replace every ``{{name}}`` with ``values[name]``.

    Parameters
    ----------
    template : str
        Script with placeholders.
    values : mapping of str to object
        Values by variable name; converted with ``str``, whitespace (line breaks too)
        collapsed to single spaces, markup characters escaped (plain text: shown and
        spoken as written; in an SSML template also XML-escaped). Extra keys are ignored.

    Returns
    -------
    str
        The filled script.

    Raises
    ------
    ScriptError
        A variable missing from ``values`` or given an empty value (the message
        names it with its line and column), or malformed placeholder markup.
    """
    for p in find_placeholders(template):
        value = values.get(p.name)
        if value is None or not str(value).strip():
            what = "has no value" if p.name in values else "is not given"
            known = ", ".join(sorted(values)) or "none"
            raise ScriptError(
                f"variable {{{{{p.name}}}}} at line {p.line}, column {p.column} {what} "
                f"(columns available: {known})"
            )
    xml = is_ssml(template)

    def plain(name: str) -> str:
        value = " ".join(str(values[name]).split())
        if xml:  # before the backslashes, which leave no "<" or "&" to XML-escape
            value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return escape(value)

    out, pos = [], 0
    for m in PLACEHOLDER.finditer(_unescaped(template)):
        out += [template[pos:m.start()], plain(m.group(1))]
        pos = m.end()
    return "".join(out) + template[pos:]
