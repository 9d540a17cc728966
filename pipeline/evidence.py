"""Declared relations and standard keys of items, parsed once for match and rank.

An item's ``declared`` list holds ``"<relation>:<target>"`` strings (``equivalent:ISO/IEC 13818-1``,
``liaison:ISO/IEC JTC 1/SC 29``, ``relationship:IEC TC 100``). Match uses the equivalents and
cited standards to bring pairs in whatever their text; rank uses all of it to categorise.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.committees import canonical_committee
from pipeline.contracts import ITU_BODY
from pipeline.references import standard_keys
from pipeline.utils.frames import list_col, str_col

__all__ = [
    "COMMITTEE_RELATIONS",
    "Declared",
    "itu_liaison_committees",
    "own_keys",
    "parse_declared",
]

# Declared relations that name a committee (as opposed to ``equivalent:`` which names a text).
COMMITTEE_RELATIONS = ("liaison", "relationship")


@dataclass(frozen=True)
class Declared:
    """Declared relations of one item.

    ``equivalent``: standard keys of declared twin texts; ``committees``: canonical committees
    named by ``liaison:``/``relationship:`` entries, each with the first relation that named it.
    """

    equivalent: frozenset[str]
    committees: dict[str, str]


def parse_declared(items: pd.DataFrame) -> list[Declared]:
    """One :class:`Declared` per row of ``items`` (column ``declared``; missing = none)."""
    out = []
    for values in list_col(items, "declared"):
        eq: set[str] = set()
        com: dict[str, str] = {}
        for v in values:
            rel, _, target = v.partition(":")
            rel, target = rel.strip().lower(), target.strip()
            if not target:
                continue
            if rel == "equivalent":
                eq.update(standard_keys(target) or standard_keys(target, ITU_BODY) or [target])
            elif rel in COMMITTEE_RELATIONS:
                com.setdefault(canonical_committee(target), rel)
        out.append(Declared(frozenset(eq), com))
    return out


def own_keys(items: pd.DataFrame) -> list[set[str]]:
    """Standard keys of each item's own reference (``own_keys`` from enrich when present)."""
    if "own_keys" in items.columns:
        return [set(v) for v in list_col(items, "own_keys")]
    refs, bodies = str_col(items, "reference"), str_col(items, "body")
    return [set(standard_keys(r, b)) for r, b in zip(refs, bodies, strict=True)]


def itu_liaison_committees(committees: pd.DataFrame | None) -> set[str]:
    """Canonical committees whose own record declares ITU as a liaison organisation."""
    if committees is None or committees.empty or "declared" not in committees.columns:
        return set()
    found = set()
    names = str_col(committees, "committee")
    for name, declared in zip(names, list_col(committees, "declared"), strict=True):
        for v in declared:
            rel, _, target = v.partition(":")
            if rel.strip().lower() == "liaison" and target.strip().upper().startswith("ITU"):
                found.add(canonical_committee(name))
    return found
