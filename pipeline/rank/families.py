"""Number families and common texts that the data declares only indirectly.

A *number family* is a standard key without its part (``ISO/IEC 6048-1`` -> ``ISO/IEC 6048``)
or, for ITU-T, without its sub-number (``ITU-T T.840.3`` -> ``ITU-T T.840``). Two rules use it:

- a text that declares itself a common text in its abstract ("This Recommendation |
  International Standard ...") is one, whatever the Equivalent-number field says;
- another part or edition of a family that already has a declared common text between the same
  two committees belongs to that common-text series (T.840.3 against ISO/IEC 6048-2 when T.840.1
  is declared equivalent to ISO/IEC 6048-1 and both sides sit in the same committees).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from pipeline.contracts import ITU_BODY
from pipeline.evidence import own_keys, parse_declared
from pipeline.utils.frames import str_col

__all__ = [
    "common_text_families",
    "declares_common_text",
    "family_common_text",
    "itu_series",
    "number_family",
]

# "Recommendation | International Standard", "ITU-T X.509 | ISO/IEC 9594-8 | International
# Standard": the wording only a common text uses of itself.
_SELF_DECLARED = re.compile(r"\|\s*International\s+Standard", re.IGNORECASE)
_PART = re.compile(r"^(?P<family>.*?\d+)(?:-\d+)+$")
_ITU_SUB = re.compile(r"^(?P<series>(?:ITU-T\s+)?[A-Z]\.\d+)(?:\.\d+)+$")


def number_family(key: str) -> str:
    """``ISO/IEC 6048-1`` -> ``ISO/IEC 6048``; ``ITU-T T.840.3`` -> ``ITU-T T.840``; a key
    without part or sub-number is its own family."""
    key = (key or "").strip()
    m = _ITU_SUB.match(key) or _PART.match(key)
    if m is None:
        return key
    return m.group(1)


def itu_series(reference: str) -> str:
    """The series an ITU-T reference belongs to: ``T.840.3`` -> ``T.840``, ``X.509`` -> ``X.509``
    (``""`` for no reference)."""
    return number_family(reference.split("(")[0].split("/")[0].strip()) if reference else ""


def declares_common_text(texts: Iterable[str]) -> np.ndarray:
    """(n,) bool: the text calls itself "... | International Standard" (a common text)."""
    return np.array([bool(_SELF_DECLARED.search(t or "")) for t in texts], dtype=bool)


def common_text_families(items: pd.DataFrame) -> set[tuple[str, str, str]]:
    """``(itu_committee, other_committee, family)`` of every declared common text whose other
    side is in ``items`` (either side may declare the equivalent)."""
    body, committee = str_col(items, "body"), str_col(items, "committee")
    keys = own_keys(items)
    by_key: dict[str, list[int]] = {}
    for i, ks in enumerate(keys):
        for k in ks:
            by_key.setdefault(k, []).append(i)
    found: set[tuple[str, str, str]] = set()
    for i, declared in enumerate(parse_declared(items)):
        for key in declared.equivalent:
            for j in by_key.get(key, []):
                if (body[i] == ITU_BODY) == (body[j] == ITU_BODY):
                    continue  # a twin joins ITU-T with another body
                itu, other = (i, j) if body[i] == ITU_BODY else (j, i)
                found.update(
                    (committee[itu], committee[other], number_family(k)) for k in keys[other]
                )
    return found


def family_common_text(
    items: pd.DataFrame,
    ii: np.ndarray,
    oo: np.ndarray,
    families: set[tuple[str, str, str]] | None = None,
) -> np.ndarray:
    """(m,) bool: the other item of pair ``(ii[r], oo[r])`` is in a number family that has a
    declared common text between the pair's two committees."""
    fam = common_text_families(items) if families is None else families
    if not fam or len(ii) == 0:
        return np.zeros(len(ii), dtype=bool)
    committee = str_col(items, "committee")
    own = [{number_family(k) for k in ks} for ks in own_keys(items)]
    return np.array(
        [
            any((committee[i], committee[j], f) in fam for f in own[j])
            for i, j in zip(ii.tolist(), oo.tolist(), strict=True)
        ],
        dtype=bool,
    )
