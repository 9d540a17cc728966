"""Explicit references to standards and committees, and the keys that join them.

A *standard key* names a standard's family, without year, edition, stage prefix, deliverable
type or amendment: ``ISO/IEC 27001:2022/Amd 1:2024`` -> ``ISO/IEC 27001``; ``IEC TS 63353 ED1``
-> ``IEC 63353``; ``X.509`` (an ITU-T Recommendation) -> ``ITU-T X.509``. Two texts that cite
the same key talk about the same standard; an ITU-T item whose ``Equivalent number`` key equals an
ISO/IEC item's own key is a declared common text.

Shared by sources (equivalent numbers), enrich (references in text) and rank (evidence).
"""

from __future__ import annotations

import re

from pipeline.committees import CommitteeError, normalize_committee, normalize_question

__all__ = [
    "find_committee_references",
    "find_standard_references",
    "standard_keys",
]

_ORG = r"(?P<org>ISO/IEC/IEEE|ISO/IEC|IEC/ISO|ISO/IEEE|IEC/IEEE|ISO|IEC|CISPR)"
# Deliverable types and stage prefixes that do not change which standard is meant.
_QUALIFIER = (
    r"(?:(?:TR|TS|PAS|IS|ISP|IWA|GUIDE|Guide|DIS|FDIS|CD|DTR|DTS|DPAS|AWI|NP|PWI|WD|PRF|"
    r"DAmd|Amd|CDV|PNW|DTR|FDTR|FDTS|DIS\s*Amd)\s+)*"
)
_NUMBER = r"(?P<num>\d{2,5}(?:-\d{1,4}){0,3})"
_STD_RE = re.compile(rf"\b{_ORG}[ \u00a0/]+{_QUALIFIER}{_NUMBER}(?!\d|\.\d)")
_ITU_NUM = r"(?P<rec>[A-Z]\.\d{1,4}(?:\.\d{1,4}){0,2}(?:/[A-Z]\.\d{1,4}(?:\.\d{1,4})?)?)"
_ITU_RE = re.compile(
    rf"\b(?:(?:Rec(?:ommendation)?s?\.?\s+)?ITU-T\s+(?:Rec(?:ommendation)?\.?\s+)?"
    rf"|Rec(?:ommendation)?\.?\s+){_ITU_NUM}(?!\w|\.\w)"
)
_ITU_OWN = re.compile(rf"^(?:ITU-T\s+)?{_ITU_NUM}")

_COMMITTEE_RE = re.compile(
    r"\b(?:ISO/IEC|IEC/ISO)\s*JTC\s*\d+(?:\s*/\s*SC\s*\d+)?"
    r"|\bJTC\s*1\s*/\s*SC\s*\d+"
    r"|\bISO\s*/\s*(?:TC|PC)\s*\d+(?:\s*/\s*SC\s*\d+)?"
    r"|\bIEC\s*/?\s*(?:TC|SC|PC)\s*\d+[A-Z]?"
    r"|\bIEC\s+SyC\s+[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?"
    r"|\bCISPR(?:/[A-Z]\b|\s+SC\s*[A-Z]\b)?"
    r"|\bITU-T\s+(?:SG\s*\d+|Study\s+Group\s+\d+)"
    r"|\bTSAG\b"
)
_QUESTION_RE = re.compile(r"\bQ(?:uestion)?\s*\d{1,2}/\d{1,2}\b")


def _std_key(org: str, num: str) -> str:
    org = {"IEC/ISO": "ISO/IEC"}.get(org, org)
    return f"{org} {num}"


def standard_keys(reference: str, body: str = "") -> list[str]:
    """Keys of the standard(s) a reference names; ``[]`` if it names none.

    ``body`` says how to read a bare ITU-T number (``X.509`` with body ``ITU-T``).
    ``"F.400/X.400"`` gives two keys; ``"DTR/EE-EEPS58 (Twin)"`` (an ETSI number) gives none.
    """
    ref = (reference or "").strip()
    if not ref or ref in {"-", "–"}:
        return []
    keys: list[str] = []
    for m in _STD_RE.finditer(ref):
        keys.append(_std_key(m.group("org"), m.group("num")))
    if not keys:
        itu = _ITU_OWN.match(ref) if body == "ITU-T" or ref.startswith("ITU-T") else None
        if itu is None:
            itu = re.match(rf"^(?:Rec(?:ommendation)?\.?\s+)?ITU-T\s+{_ITU_NUM}", ref)
        if itu:
            keys.extend(f"ITU-T {r}" for r in itu.group("rec").split("/"))
    return list(dict.fromkeys(keys))


def find_standard_references(text: str) -> list[str]:
    """Standard keys cited in free text (``ISO/IEC 27001``, ``ITU-T X.509``, ``IEC 62368-1``),
    in order of first appearance, without duplicates."""
    found: list[str] = []
    for m in _STD_RE.finditer(text or ""):
        found.append(_std_key(m.group("org"), m.group("num")))
    for m in _ITU_RE.finditer(text or ""):
        found.extend(f"ITU-T {r}" for r in m.group("rec").split("/") if r)
    return list(dict.fromkeys(found))


def find_committee_references(text: str) -> list[str]:
    """Canonical committees (``ISO/IEC JTC 1/SC 27``, ``IEC TC 100``, ``SG17``) and ITU-T
    Questions (``Q10/17``) named in free text, in order, without duplicates."""
    found: list[str] = []
    for m in _COMMITTEE_RE.finditer(text or ""):
        raw = m.group(0).replace("ITU-T", "").strip()
        try:
            found.append(normalize_committee(raw))
        except CommitteeError:
            continue
    for m in _QUESTION_RE.finditer(text or ""):
        q = normalize_question(m.group(0))
        if q:
            found.append(q)
    return list(dict.fromkeys(found))
