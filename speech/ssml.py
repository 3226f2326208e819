"""Plain SSML, turned into Podium's own script markup.

Supported: ``<speak>``, ``<break time="500ms"/>`` (or ``strength=``), ``<phoneme
alphabet="ipa" ph="...">``, ``<prosody rate="80%">`` (also slow, fast...),
``<say-as interpret-as="characters">`` (spelled letter by letter), ``<sub alias="...">``,
``<p>``, ``<s>``, ``<emphasis>`` and ``<mark>`` (their text is kept). Anything else
is an error that names the tag and its line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from podium.common.errors import ScriptError

_STRENGTH = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.7, "x-strong": 1.0}
_TIME = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*$", re.IGNORECASE)
SUPPORTED = ("speak", "break", "phoneme", "prosody", "say-as", "sub", "p", "s", "emphasis", "mark")


#: What may come before ``<speak``: an XML declaration, comments, a DOCTYPE (no internal subset).
_PROLOGUE = re.compile(r"\s*(?:<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\]\s*)?>)", re.S | re.I)


def _skip_prologue(text: str) -> tuple[str, bool]:
    """The text after the prologue, and whether the DOCTYPE declares anything of its own."""
    pos, internal = 0, False
    while True:
        m = _PROLOGUE.match(text, pos)
        if m is None or m.end() == pos:
            return text[pos:].lstrip(), internal
        internal = internal or (m.group().lstrip()[:9].upper() == "<!DOCTYPE" and "[" in m.group())
        pos = m.end()


def is_ssml(text: str) -> bool:
    """True when the script is an SSML document: ``<speak`` first, after an optional XML
    declaration, comments and DOCTYPE."""
    return _skip_prologue(text)[0].startswith("<speak")


def _fail(message: str, line: int | None) -> ScriptError:
    where = f" at line {line}" if line else ""
    return ScriptError(f"SSML{where}: {message}")


def ssml_to_script(text: str) -> str:
    """Convert an SSML document to a Podium script with the same pauses, pronunciations
    and rates.

    Raises
    ------
    ScriptError
        Not well-formed XML (with line and column), an unsupported tag or attribute
        value (with the tag's line).
    """
    body, internal = _skip_prologue(text)
    if internal:
        # Entity declarations are how XML bombs and external-file reads get in.
        raise _fail("a DOCTYPE that declares entities is not accepted; remove its [...] part", 1)
    if re.search(r"<!DOCTYPE|<!ENTITY", body, re.I):
        raise _fail("a DOCTYPE or ENTITY inside the document is not accepted", None)
    # Line numbers stay right: the prologue is blanked, not cut.
    text = re.sub(r"[^\n]", " ", text[: len(text) - len(body)]) + body
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        raise ScriptError(f"the SSML is not well-formed at line {line}, column {col + 1}: "
                          f"{str(exc).split(':')[0]}") from None
    # ElementTree keeps no line numbers: find each tag in the source, in document order.
    lines: dict[int, int] = {}
    cursor = 0
    for el in root.iter():
        at = text.find("<" + el.tag.split("}")[-1], cursor)
        if at >= 0:
            lines[id(el)] = text.count("\n", 0, at) + 1
            cursor = at + 1
    if _local(root.tag) != "speak":
        raise _fail(f"the document must be <speak>...</speak>, not <{_local(root.tag)}>", 1)
    out = _convert(root, lines)
    return re.sub(r"[ \t]+", " ", out).strip()


def _local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def _convert(el, lines) -> str:
    tag = _local(el.tag)
    line = lines.get(id(el))
    if tag not in SUPPORTED:
        raise _fail(f"<{tag}> is not supported; use " + ", ".join(f"<{t}>" for t in SUPPORTED), line)
    inner = (el.text or "") + "".join(_convert(child, lines) + (child.tail or "") for child in el)
    if tag == "break":
        if "time" in el.attrib:
            m = _TIME.match(el.attrib["time"])
            if not m:
                raise _fail(f'<break time="{el.attrib["time"]}"> needs a time like "500ms" or "1.5s"', line)
            return f" [pause {m.group(1)}{m.group(2).lower()}] "
        strength = el.attrib.get("strength", "medium")
        if strength not in _STRENGTH:
            raise _fail(f'<break strength="{strength}"> must be one of {", ".join(_STRENGTH)}', line)
        seconds = _STRENGTH[strength]
        return f" [pause {seconds:g}s] " if seconds > 0 else " "
    if tag == "phoneme":
        alphabet = el.attrib.get("alphabet", "ipa").lower()
        ph = el.attrib.get("ph", "").strip()
        if alphabet != "ipa":
            raise _fail(f'<phoneme alphabet="{alphabet}"> is not supported; write the sounds in IPA', line)
        if not ph or not inner.strip():
            raise _fail("<phoneme> needs a ph attribute and the written word inside", line)
        return "{" + " ".join(inner.split()) + "|/" + ph.strip("/") + "/}"
    if tag == "sub":
        alias = el.attrib.get("alias", "").strip()
        if not alias:
            raise _fail("<sub> needs an alias attribute: what to say instead", line)
        return "{" + " ".join(inner.split()) + "|" + alias + "}"
    if tag == "say-as":
        kind = el.attrib.get("interpret-as", "").lower()
        word = " ".join(inner.split())
        if kind in ("characters", "spell-out", "letters"):
            letters = [c for c in word if c.isalnum()]
            return "{" + word + "|" + " ".join(c.upper() + "." for c in letters) + "}" if letters else word
        return inner  # numbers, dates...: the voice's own reading
    if tag == "prosody":
        rate = el.attrib.get("rate")
        if rate is None:
            return inner  # pitch and volume are not changed inside a script
        return f" [rate {rate}]" + inner + "[/rate] "
    if tag == "p":
        return "\n\n" + inner.strip() + "\n\n"
    if tag == "s":
        body = inner.strip()
        return " " + body + ("" if re.search(r"[.!?。！？]$", body) else ".") + " "
    return inner  # speak, emphasis, mark
