"""The common item schema (docs/architecture.md) and its validation.

Every source writes records in this schema; so can a user (``--items FILE``). One row per work
item, Question, project, publication or committee. ``declared`` is a list of explicit relations
written ``"<relation>:<target>"``, with relation one of :data:`RELATIONS` (for instance
``"equivalent:ISO/IEC 13818-1"``, ``"liaison:ISO/IEC JTC 1/SC 29"``,
``"relationship:IEC TC 100"``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from pipeline.committees import CommitteeError, split_committee
from pipeline.stages import STAGE_GROUPS, infer_stage_group, is_active
from pipeline.utils.text import clean_text

__all__ = [
    "BODIES",
    "ITEM_COLUMNS",
    "ITEM_KINDS",
    "RELATIONS",
    "RecordError",
    "SchemaError",
    "items_frame",
    "normalize_body",
    "normalize_item",
]

ITEM_COLUMNS: tuple[str, ...] = (
    "uid",
    "body",
    "kind",
    "committee",
    "group",
    "reference",
    "title",
    "text",
    "stage",
    "stage_group",
    "active",
    "url",
    "declared",
    "updated",
    "snapshot",
)
REQUIRED = ("body", "committee", "title")
BODIES = ("ITU-T", "ISO", "IEC", "ISO/IEC")
ITEM_KINDS = ("work_item", "question", "project", "publication", "committee")
RELATIONS = ("equivalent", "liaison", "relationship", "replaces", "reference")

_BODY_ALIASES = {
    "ITU-T": "ITU-T",
    "ITUT": "ITU-T",
    "ITU": "ITU-T",
    "ISO": "ISO",
    "IEC": "IEC",
    "ISO/IEC": "ISO/IEC",
    "IEC/ISO": "ISO/IEC",
    "JTC1": "ISO/IEC",
    "JTC 1": "ISO/IEC",
}


class SchemaError(ValueError):
    """A record that breaks the item schema; the message says which field and why."""


@dataclass(frozen=True)
class RecordError:
    """One input that could not be used: reported, skipped, counted, listed in the workbook.

    ``location`` is what a person opens to look: ``file:line`` or a URL.
    """

    source: str
    location: str
    reason: str
    stage: str = "parse"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def normalize_body(raw: Any) -> str:
    """``"itu-t"``, ``"ITU"``, ``"iso/iec"`` ... -> one of :data:`BODIES`; raises SchemaError."""
    key = re.sub(r"\s+", "", str(raw or "")).upper()
    if key in _BODY_ALIASES:
        return _BODY_ALIASES[key]
    raise SchemaError(f"body {raw!r} is not one of {', '.join(BODIES)}")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_str(value: Any) -> str:
    return "" if _is_missing(value) else clean_text(str(value))


def _as_list(value: Any, field: str) -> list[str]:
    if _is_missing(value):
        return []
    if isinstance(value, str):
        # CSV cells hold lists as "a; b" (or a JSON/Python list literal).
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
            parts = re.split(r"""['"]\s*,\s*['"]|;""", text)
            return [p.strip(" '\"") for p in parts if p.strip(" '\"")]
        return [p.strip() for p in text.split(";") if p.strip()]
    if isinstance(value, Iterable):
        return [clean_text(str(v)) for v in value if not _is_missing(v)]
    raise SchemaError(f"{field} must be a list, got {type(value).__name__}")


def _as_date(value: Any) -> str:
    """ISO date prefix (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) or ``""``; rejects nonsense."""
    text = _as_str(value)
    if not text:
        return ""
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if not m:
        raise SchemaError(f"updated {text!r} is not a date")
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        dt.date(int(y), int(mo or 1), int(d or 1))
    except ValueError as exc:
        raise SchemaError(f"updated {text!r} is not a date") from exc
    return "-".join(p for p in (y, mo, d) if p)


def derive_uid(body: str, reference: str, committee: str, title: str) -> str:
    """``<body>:<reference>``, or ``<body>:<hash>`` of committee and title when no reference."""
    if reference:
        return f"{body}:{reference}"
    digest = hashlib.sha1(f"{committee}\n{title}".encode()).hexdigest()[:12]
    return f"{body}:{digest}"


def normalize_item(record: Mapping[str, Any], *, snapshot: str = "") -> dict[str, Any]:
    """Validate and coerce one record to the item schema; extra fields are kept as they are.

    Only ``body``, ``committee`` and ``title`` are required. A given ``uid`` is kept, a missing one
    derived (:func:`derive_uid`). The committee is normalized (its finer unit goes to ``group``
    unless ``group`` is given), ``stage_group`` and ``active`` are inferred from ``stage`` when
    absent. Raises :class:`SchemaError` naming the field.
    """
    for field in REQUIRED:
        if _is_missing(record.get(field)):
            raise SchemaError(f"missing required field {field!r}")
    body = normalize_body(record["body"])
    try:
        committee, group = split_committee(str(record["committee"]), body)
    except CommitteeError as exc:
        raise SchemaError(f"committee: {exc}") from exc
    kind = _as_str(record.get("kind")) or "work_item"
    if kind not in ITEM_KINDS:
        raise SchemaError(f"kind {kind!r} is not one of {', '.join(ITEM_KINDS)}")
    title = _as_str(record["title"])
    reference = _as_str(record.get("reference"))
    stage = _as_str(record.get("stage"))
    stage_group = _as_str(record.get("stage_group")) or infer_stage_group(body, stage)
    if stage_group and stage_group not in STAGE_GROUPS:
        raise SchemaError(f"stage_group {stage_group!r} is not one of {', '.join(STAGE_GROUPS)}")
    active = record.get("active")
    if _is_missing(active):
        active = is_active(stage_group)
    elif isinstance(active, str):
        if active.strip().lower() not in {"true", "false", "1", "0", "yes", "no"}:
            raise SchemaError(f"active {active!r} is not a boolean")
        active = active.strip().lower() in {"true", "1", "yes"}
    item: dict[str, Any] = {k: v for k, v in record.items() if k not in ITEM_COLUMNS}
    item.update(
        uid=_as_str(record.get("uid")) or derive_uid(body, reference, committee, title),
        body=body,
        kind=kind,
        committee=committee,
        group=_as_str(record.get("group")) or group,
        reference=reference,
        title=title,
        text=_as_str(record.get("text")),
        stage=stage,
        stage_group=stage_group,
        active=bool(active),
        url=_as_str(record.get("url")),
        declared=_as_list(record.get("declared"), "declared"),
        updated=_as_date(record.get("updated")),
        snapshot=_as_str(record.get("snapshot")) or snapshot,
    )
    return item


def items_frame(items: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A DataFrame with the schema columns first (in :data:`ITEM_COLUMNS` order), extras after.

    Duplicate ``uid``s keep their first occurrence. Shape: (n_items, >= 15).
    """
    rows = list(items)
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(ITEM_COLUMNS))
    extras = [c for c in frame.columns if c not in ITEM_COLUMNS]
    frame = frame.reindex(columns=[*ITEM_COLUMNS, *extras])
    frame = frame.drop_duplicates("uid", keep="first").reset_index(drop=True)
    frame["active"] = frame["active"].fillna(False).astype(bool)
    frame["declared"] = frame["declared"].apply(lambda v: list(v) if isinstance(v, list) else [])
    for col in ITEM_COLUMNS:
        if col not in ("active", "declared"):
            frame[col] = frame[col].fillna("").astype(str)
    return frame
