"""Explicit references between a study group and a committee: who cites whom.

A Recommendation that cites ``IEC 62368-1`` depends on IEC TC 108's work whatever its abstract
says about the topic, and an ISO/IEC text that cites ``ITU-T X.509`` depends on SG17's. These
links are what item-to-item text similarity misses most (issue 10: coordination named in
Recommendations, citations), so :func:`citation_links` finds them and :func:`count_citations`
counts them per committee pair, from enrich's ``ref_standards``/``ref_committees`` and each
item's ``own_keys``:

- the study group's items citing a standard whose owner is the committee (by standard key; a key
  the corpus does not hold, such as a withdrawn ``CISPR 22`` or a part-less ``IEC 62368``, by
  its number family: the committees owning any part of that number);
- the study group's items naming the committee (``CISPR``, ``IEC SC 86B``);
- the committee's items citing a Recommendation of the study group or naming the study group.

Each item counts once per committee pair, however many of its references point there.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.committees import itu_study_group
from pipeline.contracts import ITU_BODY
from pipeline.evidence import own_keys
from pipeline.utils.frames import list_col, str_col

__all__ = ["Citations", "citation_links", "count_citations"]

# Whose number families a part-less or unknown key may belong to: "ISO 27001" often means
# ISO/IEC 27001.
_ORG_OWNERS = {"ISO": ("ISO", "ISO/IEC"), "IEC": ("IEC", "ISO/IEC")}

_QUESTION = re.compile(r"Q\d+/\d+$")


@dataclass
class Citations:
    """Per (study group, counterpart): ``count`` items citing the other side, and ``cited``
    what they cite (standard keys, committee names), first seen first."""

    count: dict[tuple[str, str], int] = field(default_factory=dict)
    cited: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, key: tuple[str, str], what: list[str]) -> None:
        self.count[key] = self.count.get(key, 0) + 1
        seen = self.cited.setdefault(key, [])
        seen.extend(w for w in what if w not in seen)


def _family_key(key: str) -> tuple[str, str]:
    """(organisation, number without part): ``IEC 62368-1`` -> (``IEC``, ``62368``)."""
    org, _, number = key.rpartition(" ")
    return org, number.split("-")[0]


def _owners(items: pd.DataFrame, is_itu: np.ndarray) -> tuple:
    """Standard key -> owning committees, and number family -> owning committees."""
    by_key: dict[str, set[str]] = defaultdict(set)
    by_family: dict[tuple[str, str], set[str]] = defaultdict(set)
    committees = str_col(items, "committee")
    for committee, keys, itu in zip(committees, own_keys(items), is_itu, strict=True):
        for key in keys:
            by_key[key].add(committee)
            if itu:
                continue
            by_family[_family_key(key)].add(committee)
    return by_key, by_family


def _resolve(key: str, by_key: dict, by_family: dict) -> set[str]:
    owners = by_key.get(key)
    if owners:
        return owners
    org, number = _family_key(key)
    found: set[str] = set()
    for owner_org in _ORG_OWNERS.get(org, (org,)):
        found |= by_family.get((owner_org, number), set())
    iso, iec = by_family.get(("ISO", number), set()), by_family.get(("IEC", number), set())
    if not found and org == "ISO/IEC" and iso and iec:
        # A joint number both bodies publish parts of: ISO/IEC 80000 is ISO 80000-x (ISO/TC
        # 12) and IEC 80000-x (IEC TC 25). One body alone using the number is another standard.
        found = iso | iec
    if not found and org == "CISPR":
        found = {"CISPR"}  # every CISPR publication is CISPR's, withdrawn ones too
    return found


def citation_links(items: pd.DataFrame) -> list[tuple[int, str, str, list[str]]]:
    """Every (item row, study group, counterpart committee, what it cites) that an item of one
    side makes to the other, counterparts named as in ``items``.

    ``items``: canonical ``committee``, ``body``, ``ref_standards`` and ``ref_committees``
    (lists; absent = none), ``own_keys`` or ``reference``.
    """
    if items.empty:
        return []
    is_itu = str_col(items, "body") == ITU_BODY
    by_key, by_family = _owners(items, is_itu)
    committees = str_col(items, "committee")
    refs, named = list_col(items, "ref_standards"), list_col(items, "ref_committees")
    links = []
    rows = zip(committees, is_itu, refs, named, strict=True)
    for row, (committee, itu, standards, mentions) in enumerate(rows):
        if not (standards or mentions):
            continue
        hits: dict[str, list[str]] = defaultdict(list)
        for key in standards:
            if key.startswith("ITU-T ") == bool(itu):
                continue  # an ITU-T text citing a Recommendation, or ISO citing ISO
            for owner in sorted(_resolve(key, by_key, by_family)):
                hits[owner].append(key)
        for name in mentions:
            if _QUESTION.match(name) or bool(itu_study_group(name)) == bool(itu):
                continue  # a Question, or a text naming its own side
            hits[name].append(name)
        for other, what in hits.items():
            sg, counterpart = (committee, other) if itu else (other, committee)
            if itu_study_group(sg) and counterpart and not itu_study_group(counterpart):
                links.append((row, sg, counterpart, what))
    return links


def count_citations(
    links: list[tuple[int, str, str, list[str]]], name_of: Callable[[str], str] = str
) -> Citations:
    """:class:`Citations` of :func:`citation_links`, each counterpart renamed by ``name_of``
    (its family, for rows standing for a committee and its subcommittees): an item counts once
    per (study group, renamed counterpart)."""
    merged: dict[tuple[int, str, str], list[str]] = {}
    for row, sg, counterpart, what in links:
        seen = merged.setdefault((row, sg, name_of(counterpart)), [])
        seen.extend(w for w in what if w not in seen)
    out = Citations()
    for (_, sg, counterpart), what in merged.items():
        out.add((sg, counterpart), what)
    return out
