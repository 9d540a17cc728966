"""Acronyms in a text (``OTN``, ``QKD``, ``IoT``, ``(5G)``): pure functions over plain text.

Apart from :mod:`pipeline.enrich` so that changing these rules does not empty enrich's cache of
spaCy analyses (lemmas and keyphrases), which they do not touch. :data:`ACRONYM_NOISE` is also
read by the keyphrase rules; enrich's cache key digests its content.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["ACRONYM_NOISE", "find_acronyms"]

# Acronym noise: body names, committee kinds and deliverable types.
ACRONYM_NOISE = frozenset(
    {
        "ISO",
        "IEC",
        "ITU",
        "ITU-T",
        "ITU-R",
        "ITU-D",
        "JTC",
        "TC",
        "SC",
        "PC",
        "WG",
        "SG",
        "WP",
        "TR",
        "TS",
        "PAS",
        "IS",
        "DIS",
        "FDIS",
        "CD",
        "CDV",
        "AMD",
        "COR",
        "ED",
        "NP",
        "AWI",
        "PWI",
        "WD",
        "DTR",
        "DTS",
        "ISP",
        "IWA",
        "TSAG",
        "CISPR",
        "SYC",
        # Notes, examples and warnings that standards write in capitals.
        "NOTE",
        "NOTES",
        "EXAMPLE",
        "WARNING",
        "CAUTION",
        "DANGER",
        # Units with two capitals.
        "MPA",
        "GPA",
        "GHZ",
        "MHZ",
        "THZ",
        "MW",
        "GW",
        "TW",
        "MJ",
        "GJ",
        "MV",
    }
)

_ROMAN = re.compile(r"^[IVXLCDM]+$")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&-]*")
_DEFINED = re.compile(r"\(([A-Za-z0-9][A-Za-z0-9&/-]{0,6}[A-Za-z0-9])\)")
_LONG_WORD = re.compile(r"[A-Za-z]{3,}")
_TWO_CAPITALS = re.compile(r"[A-Z][^A-Z]*[A-Z]")
_LOWER_SUFFIX = re.compile(r"(?:-[a-z]+)+$")


def find_acronyms(text: str) -> list[str]:
    """Acronyms in ``text``, in order of first appearance, without duplicates.

    A word of 2-8 characters with at least two capitals (``OTN``, ``QKD``, ``IoT``, ``IPv6``;
    a plural ``APIs`` gives ``API``), or any 2-8 character term defined in parentheses with a
    capital (``(5G)``). Body names and deliverable types (``ISO``, ``TR``, ``AMD``) and Roman
    numerals are not acronyms. In a text written mostly in capitals, only parenthesised
    definitions count.
    """
    if not text:
        return []
    found: list[tuple[int, str]] = []
    for m in _DEFINED.finditer(text):
        term = _singular(m.group(1))
        if any(c.isupper() for c in term) and _acronym_ok(term):
            found.append((m.start(1), term))
    words = _LONG_WORD.findall(text)
    shouting = bool(words) and sum(map(str.isupper, words)) > 0.6 * len(words)
    if not shouting:
        for m in _WORD.finditer(text):
            # Most words have fewer than two capitals, and trimming below never adds one.
            if not _TWO_CAPITALS.search(m.group(0)):
                continue
            # "IP-based", "RF-enabled": the acronym is the part before the lowercase suffix.
            word = _singular(_LOWER_SUFFIX.sub("", m.group(0).strip("-")))
            if not 2 <= len(word) <= 8 or sum(c.isupper() for c in word) < 2:
                continue
            # Capitalised English words (``SAFETY``, ``MEDICAL`` in titles) are not acronyms:
            # a bare all-capital word of five letters or more counts only when defined in
            # parentheses, and no stop word (``THIS``, ``WITH``) ever counts.
            if word.isalpha() and word.isupper() and len(word) >= 5:
                continue
            if word.lower() in _stop_words() or not _acronym_ok(word):
                continue
            found.append((m.start(), word))
    found.sort(key=lambda pair: pair[0])
    return list(dict.fromkeys(term for _, term in found))


def _singular(term: str) -> str:
    """``APIs`` -> ``API``, ``NISs`` -> ``NIS``; anything else unchanged."""
    if len(term) > 2 and term.endswith("s") and term[:-1].isupper():
        return term[:-1]
    return term


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _acronym_ok(term: str) -> bool:
    upper = term.upper()
    if upper in ACRONYM_NOISE or re.sub(r"\d+$", "", upper) in ACRONYM_NOISE:
        return False
    if _ROMAN.match(term) or term.isdigit():
        return False
    return any(c.isalpha() for c in term)
