"""ISO Open Data -> item records (pure functions, no network).

Datasets (sources.md §2): ``iso_deliverables_metadata`` (one deliverable per JSONL line or CSV
row) and ``iso_technical_committees`` (one committee per line/row). Licence ODC-By 1.0: the
caller adds :data:`pipeline.sources.common.ATTRIBUTION` ``["iso"]`` whenever these are used.
Lines are read one at a time so the 78 MB file never sits in memory as one object.
"""

from __future__ import annotations

import ast
import csv
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.committees import body_of_committee
from pipeline.schema import RecordError
from pipeline.sources.common import (
    ParseOutput,
    committee_or_none,
    dash_empty,
    jsonl_objects,
    to_iso_date,
)
from pipeline.stages import iso_stage_code, iso_stage_group
from pipeline.utils.text import html_to_text

__all__ = [
    "ITU_ORG_ID",
    "committee_record",
    "deliverable_record",
    "parse_committees_csv",
    "parse_committees_jsonl",
    "parse_deliverables_csv",
    "parse_deliverables_jsonl",
]

SOURCE = "iso"
ITU_ORG_ID = 9657  # ITU in organizationLiaisons (sources.md §2.4)


def _lang(value: Any, lang: str = "en") -> str:
    """``{"en": "..."}`` -> the English text; a bare string as is; else ``""``."""
    if isinstance(value, dict):
        value = value.get(lang)
    return value if isinstance(value, str) else ""


def _as_list(value: Any) -> list[Any]:
    """JSON lists, CSV cells holding Python-repr lists (``"['35.040']"``) or ``"a; b"``."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = ast.literal_eval(text)
            return list(parsed) if isinstance(parsed, list | tuple) else [parsed]
        except (ValueError, SyntaxError):
            text = text.strip("[]")
            return [p.strip(" '\"") for p in text.split(",") if p.strip(" '\"")]
    return [p.strip() for p in text.split(";") if p.strip()]


def deliverable_record(rec: dict[str, Any]) -> dict[str, Any] | str | None:
    """One ``iso_deliverables_metadata`` record -> item dict, ``None`` (dropped on purpose:
    withdrawn stub or stage 95.99) or a ``str`` reason why it cannot be used."""
    reference = dash_empty(rec.get("reference", ""))
    if not reference:
        return "deliverable without reference"
    stage = iso_stage_code(rec.get("currentStage"))
    if reference.startswith("Withdrawn ") or stage == "95.99":
        return None
    owner = dash_empty(rec.get("ownerCommittee", ""))
    parsed = committee_or_none(owner, "ISO")
    committee, group = parsed if parsed else ("", "")
    body = "ISO/IEC" if committee and body_of_committee(committee) == "ISO/IEC" else "ISO"
    # Some dumps lack ``title`` (sources.md §2.3): the reference names the document instead.
    title = dash_empty(_lang(rec.get("title")))
    if stage:
        kind = "project" if stage < "60.00" else "publication"
    else:
        kind = "publication" if rec.get("publicationDate") else "project"
    ident = rec.get("id")
    ics = [str(c) for c in _as_list(rec.get("icsCode"))]
    return {
        "uid": f"ISO:{ident}" if ident not in (None, "") else f"ISO:{reference}",
        "body": body,
        "kind": kind,
        "committee": committee,
        "group": group,
        "reference": reference,
        "title": title or reference,
        "text": html_to_text(_lang(rec.get("scope"))),
        "stage": stage,
        "stage_group": iso_stage_group(stage) if stage else "",
        "url": f"https://www.iso.org/standard/{ident}.html" if ident not in (None, "") else "",
        "declared": [],
        "updated": to_iso_date(rec.get("publicationDate")),
        "publication_date": dash_empty(rec.get("publicationDate", "")),
        "iso_id": str(ident or ""),
        "owner_committee": owner,
        "deliverable_type": dash_empty(rec.get("deliverableType", "")),
        "supplement_type": dash_empty(rec.get("supplementType", "")),
        "edition": str(rec.get("edition") or ""),
        "ics": "; ".join(ics),
        "replaces": "; ".join(str(v) for v in _as_list(rec.get("replaces"))),
        "replaced_by": "; ".join(str(v) for v in _as_list(rec.get("replacedBy"))),
        "title_missing": not title,
    }


# What the datasets put where a liaison has no name: JSON null, "", or these words in the CSV.
_NO_NAME = {"", "null", "none", "nan", "-"}


def _names(value: Any, key: str, keep_unnamed: bool = False) -> list[tuple[str, str]]:
    """Liaison lists in both layouts -> ``[(id, name)]``: official objects ``{id, acronym}`` /
    ``{id, reference}``, or the simplified list of strings. Entries without a name (``null``,
    ``"NULL"``, ``""``: about a quarter of the committees have some) are left out: a liaison
    with no one at the other end is not a declared link."""
    out: list[tuple[str, str]] = []
    for entry in _as_list(value):
        if isinstance(entry, dict):
            ident, name = str(entry.get("id") or ""), str(entry.get(key) or "").strip()
        else:
            ident, name = "", str(entry if entry is not None else "").strip()
        if name.lower() not in _NO_NAME:
            out.append((ident, name))
        elif keep_unnamed and ident:
            out.append((ident, ""))
    return out


def committee_record(rec: dict[str, Any]) -> dict[str, Any] | str:
    """One ``iso_technical_committees`` record -> a ``committee`` item, or a ``str`` reason."""
    reference = dash_empty(rec.get("reference", ""))
    parsed = committee_or_none(reference, "ISO")
    if not parsed:
        return f"unrecognised committee reference {reference!r}"
    committee, group = parsed
    title = dash_empty(_lang(rec.get("title"))) or reference
    declared: list[str] = []
    # ITU is recognised by its organisation id even where the acronym is missing.
    orgs = _names(rec.get("organizationLiaisons"), "acronym", keep_unnamed=True)
    if any(i == str(ITU_ORG_ID) or name.upper() == "ITU" for i, name in orgs):
        declared.append("liaison:ITU")
    for _, name in _names(rec.get("committeeLiaisons"), "reference"):
        target = committee_or_none(name, "ISO")
        declared.append(f"liaison:{target[0] if target else name.strip()}")
    ident = rec.get("id")
    status = dash_empty(rec.get("status", ""))
    secretariat = rec.get("secretariat")
    if isinstance(secretariat, dict):
        secretariat = secretariat.get("acronym")
    return {
        "uid": f"ISO:committee-{ident}"
        if ident not in (None, "")
        else f"ISO:committee-{reference}",
        "body": body_of_committee(committee),
        "kind": "committee",
        "committee": committee,
        "group": group,
        "reference": reference,
        "title": title,
        "text": html_to_text(_lang(rec.get("scope"))),
        "stage": status,
        "stage_group": "",
        "active": status.lower() in ("", "active"),
        "url": f"https://www.iso.org/committee/{ident}.html" if ident not in (None, "") else "",
        "declared": list(dict.fromkeys(declared)),
        "updated": to_iso_date(rec.get("creationDate")),
        "iso_id": str(ident or ""),
        "parent_id": str(rec.get("parentId") or ""),
        "secretariat": str(secretariat or ""),
        "organization_liaisons": "; ".join(n for _, n in orgs if n),
    }


def _jsonl_records(lines: Iterable[str], location: str) -> Iterator[tuple[str, Any]]:
    for lineno, rec in jsonl_objects(lines):
        where = f"{location}:{lineno}"
        yield where, RecordError(SOURCE, where, rec) if isinstance(rec, str) else rec


def _csv_records(lines: Iterable[str], location: str) -> Iterator[tuple[str, Any]]:
    """CSV rows -> dicts nested like the JSONL (``title.en`` -> ``{"title": {"en": ...}}``)."""
    reader = csv.DictReader(lines)
    for row in reader:
        where = f"{location}:{reader.line_num}"
        rec: dict[str, Any] = {}
        for key, value in row.items():
            if key is None:
                continue
            value = value if value not in ("", None) else None
            if "." in key:
                head, tail = key.split(".", 1)
                rec.setdefault(head, {})[tail] = value
            else:
                rec[key] = value
        for head in ("committeeLiaisons", "organizationLiaisons"):
            part = rec.get(head)
            if isinstance(part, dict):
                ids = [str(v) for v in _as_list(part.get("id"))]
                names = [str(v) for v in _as_list(part.get("acronym") or part.get("reference"))]
                key = "acronym" if head == "organizationLiaisons" else "reference"
                rec[head] = [
                    {"id": ids[i] if i < len(ids) else "", key: n} for i, n in enumerate(names)
                ] or [{"id": i, key: ""} for i in ids]
        yield where, rec


def _parse(records: Iterator[tuple[str, Any]], make: Any) -> ParseOutput:
    out = ParseOutput()
    for where, rec in records:
        if isinstance(rec, RecordError):
            out.errors.append(rec)
            continue
        if not isinstance(rec, dict):
            out.errors.append(RecordError(SOURCE, where, "record is not a JSON object"))
            continue
        try:
            item = make(rec)
        except Exception as exc:  # one odd record never stops the file
            out.errors.append(RecordError(SOURCE, where, f"unreadable record: {exc}"))
            continue
        if item is None:
            out.dropped += 1
        elif isinstance(item, str):
            out.errors.append(RecordError(SOURCE, where, item))
        else:
            item["source_location"] = where
            out.records.append(item)
    return out


def parse_deliverables_jsonl(lines: Iterable[str], location: str) -> ParseOutput:
    """``iso_deliverables_metadata.jsonl`` lines -> project/publication records.

    Withdrawn stubs (reference ``"Withdrawn ..."``) and stage 95.99 are dropped (counted in
    ``dropped``); scope HTML becomes plain text; ``kind`` is ``project`` below stage 60.00.
    """
    return _parse(_jsonl_records(lines, location), deliverable_record)


def parse_deliverables_csv(lines: Iterable[str], location: str) -> ParseOutput:
    """The CSV layout of the same dataset (list cells as Python-repr strings)."""
    return _parse(_csv_records(lines, location), deliverable_record)


def parse_committees_jsonl(lines: Iterable[str], location: str) -> ParseOutput:
    """``iso_technical_committees.jsonl`` (official or simplified layout) -> committee records."""
    return _parse(_jsonl_records(lines, location), committee_record)


def parse_committees_csv(lines: Iterable[str], location: str) -> ParseOutput:
    """The CSV layout of the committees dataset."""
    return _parse(_csv_records(lines, location), committee_record)
