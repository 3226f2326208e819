"""How numbers, dates, money and abbreviations are read, where espeak-ng gets them wrong.

espeak-ng reads most numbers well in every language (tests/test_readings.py checks
English, German, French and Spanish against the words spelled out). This module
fixes what it misses, as respellings (``{z.B.|zum Beispiel}``), so captions keep
the written form and every voice reads them the same way.
"""

from __future__ import annotations

import re
from typing import Callable

_ORDINAL_DE = ("", "ersten", "zweiten", "dritten", "vierten", "fünften", "sechsten", "siebten", "achten",
               "neunten", "zehnten", "elften", "zwölften", "dreizehnten", "vierzehnten", "fünfzehnten",
               "sechzehnten", "siebzehnten", "achtzehnten", "neunzehnten", "zwanzigsten",
               "einundzwanzigsten", "zweiundzwanzigsten", "dreiundzwanzigsten", "vierundzwanzigsten",
               "fünfundzwanzigsten", "sechsundzwanzigsten", "siebenundzwanzigsten",
               "achtundzwanzigsten", "neunundzwanzigsten", "dreißigsten", "einunddreißigsten")
_MONTHS_DE = ("Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember")

_ABBREVIATIONS = {
    "en": {"e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "approx.": "approximately",
           "vs.": "versus"},
    "de": {"z.B.": "zum Beispiel", "z. B.": "zum Beispiel", "d.h.": "das heißt", "d. h.": "das heißt",
           "usw.": "und so weiter", "bzw.": "beziehungsweise", "Dr.": "Doktor", "Nr.": "Nummer",
           "ca.": "circa", "u.a.": "unter anderem", "evtl.": "eventuell", "Hr.": "Herr", "Fr.": "Frau"},
    "fr": {"M.": "Monsieur", "Mme": "Madame", "Mlle": "Mademoiselle", "Dr": "Docteur", "Dr.": "Docteur",
           "etc.": "et cetera", "p.ex.": "par exemple", "env.": "environ"},
    "es": {"Sr.": "Señor", "Sra.": "Señora", "Srta.": "Señorita", "Dr.": "Doctor", "etc.": "etcétera",
           "Ud.": "usted", "Uds.": "ustedes", "p.ej.": "por ejemplo"},
}
_CURRENCY_EN = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
                "£": ("pound", "pounds", "penny", "pence")}
_CURRENCY_WORDS = {"de": {"$": "Dollar", "€": "Euro", "£": "Pfund"},
                   "fr": {"$": "dollars", "€": "euros", "£": "livres"},
                   "es": {"$": "dólares", "€": "euros", "£": "libras"}}


def _wrap(written: str, spoken: str) -> str:
    return "{" + written + "|" + spoken + "}"


def _money_en(m: re.Match) -> str:
    sym, whole, cents = m.group(1), m.group(2).replace(",", ""), m.group(3)
    one, many, c1, cn = _CURRENCY_EN[sym]
    spoken = f"{whole} {one if whole == '1' else many}"
    if cents and int(cents):
        spoken += f" {int(cents)} {c1 if int(cents) == 1 else cn}"
    return _wrap(m.group(0), spoken)


def _year_en(m: re.Match) -> str:
    year = m.group(2)
    hi, lo = year[:2], year[2:]
    spoken = f"{hi} hundred" if lo == "00" else f"{hi} oh {lo[1]}" if lo[0] == "0" else f"{hi} {lo}"
    return m.group(1) + _wrap(year, spoken)


def _rules(language: str) -> list[tuple[re.Pattern, Callable[[re.Match], str]]]:
    rules: list[tuple[re.Pattern, Callable[[re.Match], str]]] = []
    abbr = _ABBREVIATIONS.get(language, {})
    if abbr:
        keys = sorted(abbr, key=len, reverse=True)
        pat = re.compile(r"(?<![\w.])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])")
        rules.append((pat, lambda m, a=abbr: _wrap(m.group(0), a[m.group(0)])))
    if language == "en":
        rules.append((re.compile(r"([$€£])(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?(?!\d)"), _money_en))
        rules.append((re.compile(r"(\b(?:in|since|from|until|till|by|of|year|around|circa) )"
                                  r"((?:1[1-9]|20)(?:[1-9]\d|0[1-9]))\b", re.IGNORECASE), _year_en))
    elif language in _CURRENCY_WORDS:
        words = _CURRENCY_WORDS[language]
        rules.append((re.compile(r"([$€£])\s?(\d+(?:[.,]\d+)?)(?!\d)"),
                      lambda m: _wrap(m.group(0), f"{m.group(2)} {words[m.group(1)]}")))
    if language == "de":
        rules.append((re.compile(r"\b([1-9]|[12]\d|3[01])\.(?= (?:" + _MONTHS_DE + r")\b)"),
                      lambda m: _wrap(m.group(0), _ORDINAL_DE[int(m.group(1))])))
    return rules


def apply_readings(text: str, language: str) -> str:
    """``text`` with the readings of ``language`` ("en-us", "de", "fr-fr"...) marked up as
    respellings; text already inside pronunciation markup is left alone."""
    from podium.speech.markup import respell_outside_markup

    for pattern, make in _rules(language.lower().split("-")[0]):
        text = respell_outside_markup(text, pattern, make)
    return text
