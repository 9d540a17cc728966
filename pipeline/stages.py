"""Map each body's native stage to the common lifecycle (``stage_group``) and ``active``.

``stage_group`` is one of :data:`STAGE_GROUPS`. ``active`` means the text is still being
developed (every group but ``published`` and ``withdrawn``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "ACTIVE_STAGE_GROUPS",
    "EARLY_STAGE_GROUPS",
    "STAGE_GROUPS",
    "iec_stage_group",
    "infer_stage_group",
    "is_active",
    "iso_stage_code",
    "iso_stage_group",
    "itu_stage_group",
]

STAGE_GROUPS = (
    "proposal",
    "preparatory",
    "committee",
    "enquiry",
    "approval",
    "published",
    "withdrawn",
    "under_study",
)
ACTIVE_STAGE_GROUPS = frozenset(
    {"proposal", "preparatory", "committee", "enquiry", "approval", "under_study"}
)
# Resolution 7 resolve 2 asks for review "early": these are the stages where coordination is cheap.
EARLY_STAGE_GROUPS = frozenset({"proposal", "preparatory", "committee", "under_study"})

_ISO_MAIN = {
    0: "proposal",
    10: "proposal",
    20: "preparatory",
    30: "committee",
    40: "enquiry",
    50: "approval",
    60: "published",
    90: "published",
    95: "withdrawn",
}

# IEC stage codes (iec.ch stage_codes.htm), grouped by the harmonized phase they belong to.
_IEC_CODES: dict[str, str] = {}
for _group, _codes in {
    "proposal": "PWI PNW PRVN",
    "preparatory": "ANW AMW ACD",
    "committee": "CD CDM PCC 1CD 2CD 3CD 4CD 5CD 6CD 7CD 8CD 9CD A2CD A3CD A4CD A5CD",
    "enquiry": "ACDV CCDV CDVM NCDV PRVC ADTR ADTS CDTR CDTS DTRM DTSM NDTR NDTS PRVDTR PRVDTS "
    "CDPAS TCDV TDTR TDTS",
    "approval": "AFDIS CFDIS DECFDIS RFDIS NFDIS TFDIS PRVD APUB BPUB DECPUB RPUB TPUB",
    "published": "PPUB PUBLISHED CURRENT REVISED",
    "withdrawn": "WPUB DEL DELPUB CAN WITHDRAWN REPLACED",
}.items():
    for _code in _codes.split():
        _IEC_CODES[_code] = _group


def iso_stage_code(code: Any) -> str:
    """``4020`` -> ``"40.20"``, ``98`` -> ``"00.98"``, ``"40.20"`` as is; ``""`` when absent or
    not a stage code. ISO Open Data writes ``currentStage`` as an int (stage x 100 + substage)."""
    if code is None or isinstance(code, bool):
        return ""
    text = str(code).strip()
    m = re.fullmatch(r"(\d{1,2})\.(\d{2})", text)
    if m:
        return f"{int(m.group(1)):02d}.{m.group(2)}"
    if text.isdigit() and int(text) < 10000:
        main, sub = divmod(int(text), 100)
        return f"{main:02d}.{sub:02d}"
    return ""


def iso_stage_group(code: str | int | float | None) -> str:
    """ISO harmonized stage (``"40.20"``, ``4020``, ``98`` for 00.98) -> stage group, or ``""``.

    A ``.98`` substage (project deleted) counts as ``withdrawn``; ``60.00`` (under publication)
    as ``approval``.
    """
    text = iso_stage_code(code)
    if not text:
        return ""
    main, sub = int(text[:2]), int(text[3:])
    if sub == 98:
        return "withdrawn"
    if main == 60 and sub == 0:
        return "approval"
    return _ISO_MAIN.get(main, "")


def iec_stage_group(code: str | None, status: str | None = None) -> str:
    """IEC stage code (``"ACDV"``) or webstore status (``"PREPARING"``) -> stage group or ``""``."""
    for value in (code, status):
        token = (value or "").strip().split(" ", 1)[0].upper()
        if token in _IEC_CODES:
            return _IEC_CODES[token]
    if (status or "").strip().upper() == "PREPARING":
        return "committee"
    return ""


def itu_stage_group(status: str | None) -> str:
    """ITU-T work-programme status (``"Under study"``, ``"Consented on 2026-02-27"``,
    ``"Approved on ..."``, ``"In force"``) -> stage group, or ``""``."""
    s = (status or "").strip().lower()
    if not s:
        return ""
    if s.startswith(("deleted", "discontinued", "withdrawn", "superseded", "cancelled")):
        return "withdrawn"
    if s.startswith(("approved", "agreed", "in force", "published")) or s in {"a", "t"}:
        return "published"
    if s.startswith(("consented", "determined", "tap", "aap", "last call")) or s in {"lc", "aap"}:
        return "approval"
    if "under study" in s or "carried to next study period" in s or s.startswith("new"):
        return "under_study"
    return ""


def infer_stage_group(body: str, stage: str | None) -> str:
    """Stage group from a native stage string of any body (used for user-supplied items)."""
    if not stage:
        return ""
    if stage in STAGE_GROUPS:
        return stage
    if body == "ITU-T":
        return itu_stage_group(stage)
    return iso_stage_group(stage) or iec_stage_group(stage) or itu_stage_group(stage)


def is_active(stage_group: str) -> bool:
    """True while the text is being developed."""
    return stage_group in ACTIVE_STAGE_GROUPS
