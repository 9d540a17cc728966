"""What every source parser returns, and small helpers they share.

Parsers are pure functions (Scrapy style): response bytes or text (+ URL) in, a
:class:`ParseOutput` out. They never raise for bad input: a page or record that cannot be used
becomes a :class:`~pipeline.schema.RecordError` and the rest goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.committees import CommitteeError, split_committee
from pipeline.schema import RecordError
from pipeline.utils.text import clean_text

__all__ = [
    "ATTRIBUTION",
    "ParseOutput",
    "committee_or_none",
    "dash_empty",
    "decode_body",
    "jsonl_records",
    "read_html",
    "to_iso_date",
]

# Attribution strings carried into the workbook whenever a body's data is used.
ATTRIBUTION = {
    "iso": (
        "Contains information from ISO Open Data, made available under the ODC Attribution "
        "License (ODC-By 1.0)"
    ),
    "itu-t": "ITU-T material from the ITU-T Work Programme and Recommendation pages (itu.int)",
    "iec": "IEC material from iec.ch and webstore.iec.ch",
}


@dataclass
class ParseOutput:
    """Records (raw item dicts, not yet validated) and errors from one page or file.

    ``dropped`` counts records left out on purpose (withdrawn stubs...), which are not errors.
    ``extra`` carries page-level findings that are not items (dropdown options, listing rows).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    dropped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def extend(self, other: ParseOutput) -> None:
        self.records.extend(other.records)
        self.errors.extend(other.errors)
        self.dropped += other.dropped


def decode_body(content: bytes | str) -> str:
    """Text of a response body: UTF-8, falling back to cp1252 (never raises).

    ITU's ASP.NET pages are UTF-8, but a truncated multi-byte tail or an old page in a legacy
    code page must not stop a run.
    """
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def read_html(
    content: bytes | str, source: str, url: str, errors: list[RecordError] | None = None
) -> HTMLParser | None:
    """Parsed HTML of a response body, or ``None`` when even the lenient parser gives up
    (selectolax raises on some pathological inputs); then an "unreadable HTML" error naming
    ``url`` is appended to ``errors`` when given."""
    try:
        return HTMLParser(decode_body(content))
    except Exception as exc:
        if errors is not None:
            errors.append(RecordError(source, url, f"unreadable HTML: {exc}"))
        return None


def dash_empty(value: Any) -> str:
    """Clean text, with the placeholders pages show for "nothing" (``-``, ``–``) as ``""``."""
    text = clean_text(str(value or ""))
    return "" if text in {"-", "–", "—", "n/a", "N/A"} else text


def committee_or_none(raw: str, body_hint: str | None = None) -> tuple[str, str] | None:
    """``(canonical committee, group)`` or ``None`` when the normalizer does not know it."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return split_committee(raw, body_hint)
    except CommitteeError:
        return None


_WS = re.compile(r"\s+")


def one_line(text: str) -> str:
    return _WS.sub(" ", text or "").strip()


_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%d/%m/%Y", "%m/%Y")


def to_iso_date(value: Any) -> str:
    """``"2015-09-22"``, ``"01 August 2018"``, ``"Dec 20, 2023"``, ``"08/2025"`` -> ISO date
    (``YYYY-MM-DD`` or ``YYYY-MM``); ``""`` when it is not a recognisable date."""
    text = one_line(str(value or ""))
    m = re.match(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text)
    if m:
        return m.group(0)
    for fmt in _DATE_FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed.strftime("%Y-%m") if fmt == "%m/%Y" else parsed.isoformat()
    return ""


def jsonl_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line number, object)`` for each non-blank JSON Lines line, or ``(line number,
    problem)`` where the line is not JSON or not an object: one bad line never stops a file."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, f"bad JSON: {exc.msg} (column {exc.colno})"
            continue
        yield lineno, rec if isinstance(rec, dict) else "line is not a JSON object"


def jsonl_records(
    content: bytes | str, source: str, location: str, errors: list[RecordError]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(location:line, object)`` for each usable line of a JSON Lines body; a line that is
    not a JSON object becomes an error in ``errors`` (naming ``location:line``)."""
    for lineno, rec in jsonl_objects(decode_body(content).splitlines()):
        where = f"{location}:{lineno}"
        if isinstance(rec, str):
            errors.append(RecordError(source, where, rec))
            continue
        yield where, rec
