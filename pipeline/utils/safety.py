"""Keep scraped text inert: no spreadsheet formulas, no links outside the three bodies."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from pipeline.utils.text import clean_text

__all__ = ["BODY_DOMAINS", "MAX_CELL_CHARS", "is_body_url", "is_inert", "safe_cell", "safe_url"]

# Public pages of ITU, ISO and IEC (and their sub-domains: webstore.iec.ch, www.itu.int ...).
BODY_DOMAINS = ("itu.int", "iso.org", "iec.ch")
# Excel's hard limit is 32,767 characters per cell; stay well under it and say so visibly.
MAX_CELL_CHARS = 32_000
TRUNCATION_MARK = " [... cut: text too long]"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Anything ``safe_cell`` would change: a control character, CR, tab or no-break space; two
# spaces, a space beside a newline, three newlines; a formula start, whitespace at either end
# (``\s`` is ``str.isspace``, what ``str.strip`` removes).
_NOT_INERT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\t\u00a0]|  | \n|\n |\n\n\n|\A[=+\-@\s]|\s\Z")


def safe_cell(value: object, max_chars: int = MAX_CELL_CHARS) -> str:
    """A string that a spreadsheet shows as text, never evaluates.

    Control characters are removed; a value starting with ``= + - @``, tab or CR is prefixed
    with a single quote (OWASP's advice against CSV injection); a value longer than
    ``max_chars`` is cut with a visible marker.
    """
    if type(value) is str and is_inert(value, max_chars):
        return value
    text = "" if value is None else str(value)
    raw_start = text[:1]
    text = clean_text(text)
    if raw_start in _FORMULA_START or text.startswith(_FORMULA_START):
        text = "'" + text
    if len(text) > max_chars:
        text = text[: max_chars - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return text


def is_inert(text: str, max_chars: int = MAX_CELL_CHARS) -> bool:
    """True when ``safe_cell(text, max_chars)`` is ``text`` itself: short enough, NFC, and
    nothing :data:`_NOT_INERT` finds (no formula start, control character or untidy space).

    Most scraped strings are already clean; this check is several times cheaper than cleaning.
    """
    return (
        len(text) <= max_chars
        and _NOT_INERT.search(text) is None
        and unicodedata.is_normalized("NFC", text)
    )


def is_body_url(url: str, domains: tuple[str, ...] = BODY_DOMAINS) -> bool:
    """True for an http(s) URL on one of the bodies' domains (or a sub-domain)."""
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return False
    if parts.username or parts.password:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)


def safe_url(url: str, domains: tuple[str, ...] = BODY_DOMAINS) -> str:
    """``url`` if it is a body page (:func:`is_body_url`), else ``""``."""
    url = (url or "").strip()
    return url if is_body_url(url, domains) else ""
