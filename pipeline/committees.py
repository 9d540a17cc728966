"""One committee normalizer for every spelling a source or a user writes.

Canonical forms (docs/architecture.md): ``SG17``, ``TSAG``, ``ISO/TC 204``, ``ISO/TC 204/SC 1``,
``ISO/IEC JTC 1``, ``ISO/IEC JTC 1/SC 27``, ``IEC/ISO JTC 3``, ``IEC TC 100``, ``IEC SC 65A``,
``IEC SyC Smart Cities``, ``IEC PC 118``, ``CISPR``, ``CISPR/B``.

Finer units (working groups, IEC technical areas, ITU-T Questions) are split off as the
*group*: see :func:`split_committee`.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "CommitteeError",
    "body_of_committee",
    "canonical_committee",
    "itu_study_group",
    "normalize_committee",
    "normalize_question",
    "parent_committee",
    "split_committee",
]

# Joint technical committees administered by IEC are written IEC/ISO (``IEC/ISO JTC 3``).
_IEC_ADMINISTERED_JTCS = {"3"}
# IEC management and advisory bodies that publish documents in their own name.
_IEC_BODIES = {"ACEA", "ACEC", "ACEE", "ACOS", "ACSEC", "ACTAD", "CAB", "MSB", "SMB", "CB", "SB"}
_ISO_BODIES = {"CASCO", "COPOLCO", "DEVCO", "TMB", "TMBG", "REMCO", "CS"}

_NUM = r"(\d+)"
_SC_ID = r"(\d+[A-Z]?)"


class CommitteeError(ValueError):
    """A committee string that no rule recognises."""


def _squash(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("–", "-").replace("—", "-")
    text = re.sub(r"\s*/\s*", "/", text.strip())
    return re.sub(r"\s+", " ", text)


def _jtc(num: str) -> str:
    return f"IEC/ISO JTC {num}" if num in _IEC_ADMINISTERED_JTCS else f"ISO/IEC JTC {num}"


@lru_cache(maxsize=8192)
def split_committee(raw: str, body_hint: str | None = None) -> tuple[str, str]:
    """Return ``(canonical committee, group)`` for any committee spelling.

    ``body_hint`` (``ITU-T``, ``ISO``, ``IEC``) settles bare ``TC 100`` (IEC by default, as IEC
    dashboards and the IEC webstore write it) and bare ``SG 17``. The group is the finer unit
    found after the committee (``WG 5``, ``TA 6``, ``Q10/17``), or ``""``.

    Raises :class:`CommitteeError` for a string no rule recognises.
    """
    text = _squash(raw)
    if not text:
        raise CommitteeError("empty committee")
    upper = text.upper()
    hint = (body_hint or "").upper()

    # ITU-T: "SG17", "SG 17", "Study Group 17", "ITU-T SG17", "ITU-T Study Group 17", "TSAG".
    m = re.fullmatch(
        r"(?:ITU-T\s*)?(?:SG|STUDY GROUP)\s*0*(\d{1,2})(?:\s*\((.*)\))?(?:/(.*))?", upper
    )
    if m:
        group = (m.group(3) or "").strip()
        return f"SG{int(m.group(1))}", group
    m = re.fullmatch(r"(?:ITU-T\s*)?(?:Q|QUESTION)\s*(\d{1,2})/(\d{1,2})", upper)
    if m:
        return f"SG{int(m.group(2))}", f"Q{int(m.group(1))}/{int(m.group(2))}"
    if re.fullmatch(r"(?:ITU-T\s*)?TSAG", upper):
        return "TSAG", ""

    # Joint technical committees: "JTC1/SC27", "ISO/IEC JTC 1 / SC 27", "ISO/IEC JTC1 SC27".
    m = re.fullmatch(
        rf"(?:(?:ISO/IEC|IEC/ISO|ISO|IEC)[/ ]?)?JTC ?{_NUM}(?:[/ ]SC ?{_NUM})?(?:[/ ](.*))?", upper
    )
    if m:
        base = _jtc(str(int(m.group(1))))
        if m.group(2):
            base += f"/SC {int(m.group(2))}"
        return base, _group(m.group(3))
    m = re.fullmatch(r"(?:IEC/ISO|ISO/IEC) JSYC (.+)", text, flags=re.IGNORECASE)
    if m:
        return f"IEC/ISO JSyC {m.group(1)}", ""

    # CISPR and its subcommittees: "CISPR", "CISPR/CIS/B", "CIS/B", "CISPR/B".
    m = re.fullmatch(r"(?:IEC[/ ])?(?:CISPR(?:/CIS)?|CIS)(?:/([A-Z]))?(?:/(.*))?", upper)
    if m:
        return ("CISPR/" + m.group(1)) if m.group(1) else "CISPR", _group(m.group(2))

    # IEC systems committees: "SyC Smart Cities", "IEC SyC AAL".
    m = re.fullmatch(r"(?:IEC[/ ])?SYC (.+)", text, flags=re.IGNORECASE)
    if m:
        return f"IEC SyC {m.group(1).strip()}", ""

    # ISO with explicit prefix: "ISO/TC 204", "ISO TC 204", "ISO/TC204/SC1", "ISO/PC 317".
    m = re.fullmatch(rf"ISO[/ ](TC|PC) ?{_NUM}(?:[/ ]SC ?{_NUM})?(?:[/ ](.*))?", upper)
    if m:
        base = f"ISO/{m.group(1)} {int(m.group(2))}"
        if m.group(3):
            base += f"/SC {int(m.group(3))}"
        return base, _group(m.group(4))
    m = re.fullmatch(r"ISO[/ ]([A-Z]+)(?:[/ ](.*))?", upper)
    if m and m.group(1) in _ISO_BODIES:
        return f"ISO/{m.group(1)}", _group(m.group(2))
    if upper.startswith("ISO/WS"):
        return text, ""

    # IEC with or without prefix: "IEC TC 100", "TC100", "TC 65/SC 65A", "SC 65A", "IEC/TC 100",
    # "TC 100/TA 6", "PC 118", "SEG 10". Bare TC numbers are IEC unless the hint says ISO.
    m = re.fullmatch(
        rf"(?:(IEC|ISO)[/ ]?)?(?:(TC|PC|SEG|SYC|SC) ?{_SC_ID})(?:[/ ]SC ?{_SC_ID})?(?:[/ ](.*))?",
        upper,
    )
    if m:
        prefix = m.group(1) or ("ISO" if hint == "ISO" else "IEC")
        kind, num, sub, rest = m.group(2), m.group(3), m.group(4), m.group(5)
        if prefix == "ISO":
            base = f"ISO/{kind} {int(re.sub(r'[A-Z]', '', num))}"
            if sub:
                base += f"/SC {int(re.sub(r'[A-Z]', '', sub))}"
            return base, _group(rest)
        if sub:
            return f"IEC SC {_strip_zeros(sub)}", _group(rest)
        return f"IEC {kind} {_strip_zeros(num)}", _group(rest)
    m = re.fullmatch(r"(?:IEC[/ ])?([A-Z]+)", upper)
    if m and m.group(1) in _IEC_BODIES:
        return f"IEC {m.group(1)}", ""

    # Organisations publishing through ISO (CIE, IIW, IULTCS...) keep their own name.
    if re.fullmatch(r"[A-Z]{2,8}", upper):
        return upper, ""
    raise CommitteeError(f"unrecognised committee {raw!r}")


def _strip_zeros(num: str) -> str:
    m = re.fullmatch(r"0*(\d+)([A-Z]?)", num)
    return f"{int(m.group(1))}{m.group(2)}" if m else num


def _group(rest: str | None) -> str:
    if not rest:
        return ""
    rest = rest.strip(" /")
    m = re.fullmatch(r"(WG|AG|AHG|JWG|TA|MT|PT|JAG|CAG|SWG|JTF)\s*(\d+)(.*)", rest)
    return f"{m.group(1)} {int(m.group(2))}{m.group(3)}".strip() if m else rest


def normalize_committee(raw: str, body_hint: str | None = None) -> str:
    """Canonical committee for ``raw`` (see :func:`split_committee`); raises CommitteeError."""
    return split_committee(raw, body_hint)[0]


def canonical_committee(raw: str, body_hint: str | None = None) -> str:
    """:func:`normalize_committee`, or the trimmed input when it is not a committee we know
    (a foreign or free-text name must still compare equal to itself)."""
    try:
        return normalize_committee(raw, body_hint)
    except CommitteeError:
        return str(raw).strip()


def normalize_question(raw: str) -> str:
    """``"Question 10/17"``, ``"Q.10/17"``, ``"q10/17"`` -> ``"Q10/17"``; else ``""``."""
    m = re.search(r"\bQ(?:uestion)?\.?\s*(\d{1,2})\s*/\s*(\d{1,2})\b", raw or "", re.IGNORECASE)
    return f"Q{int(m.group(1))}/{int(m.group(2))}" if m else ""


def parent_committee(committee: str) -> str:
    """The committee one level up (``ISO/IEC JTC 1/SC 27`` -> ``ISO/IEC JTC 1``, ``IEC SC 77A`` ->
    ``IEC TC 77``, ``CISPR/B`` -> ``CISPR``), or itself."""
    if "/SC " in committee and committee.startswith(("ISO/", "IEC/ISO")):
        return committee.rsplit("/SC ", 1)[0]
    if committee.startswith("CISPR/"):
        return "CISPR"
    iec_sc = re.fullmatch(r"IEC SC (\d+)[A-Z]", committee)
    if iec_sc:  # IEC numbers a subcommittee after its TC: SC 77A is under TC 77
        return f"IEC TC {iec_sc.group(1)}"
    return committee


def body_of_committee(committee: str) -> str:
    """The body (``ITU-T``, ``ISO``, ``IEC``, ``ISO/IEC``) that a canonical committee belongs to."""
    if committee == "TSAG" or re.fullmatch(r"SG\d+", committee):
        return "ITU-T"
    if committee.startswith(("ISO/IEC", "IEC/ISO")):
        return "ISO/IEC"
    if committee.startswith(("IEC", "CISPR")):
        return "IEC"
    return "ISO"


def itu_study_group(committee: str) -> str:
    """``SG17``/``TSAG`` for an ITU-T committee, else ``""``."""
    return committee if body_of_committee(committee) == "ITU-T" else ""
