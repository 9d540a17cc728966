"""Every table contract in one place: bodies, categories, column lists, ids, sheet and header names.

Stages that produce a table (match, rank, areas, triage) and the ones that show it (export, the
docs) import their names from here, so a column cannot exist in one and be missing in another.
``tests/test_contracts.py`` fails when a stage produces a column not named here or misses one
that is, and when ``docs/architecture.md`` lists other columns than these.
"""

from __future__ import annotations

import hashlib

__all__ = [
    "AREA_COLUMNS",
    "BODIES",
    "CANDIDATE_COLUMNS",
    "CATEGORIES",
    "COMMITTEE_COLUMNS",
    "DECISIONS",
    "ITU_BODY",
    "OTHER_BODIES",
    "TRIAGE_COLUMNS",
    "committee_pair_id",
    "pair_id",
]

# --- bodies -----------------------------------------------------------------------------------
ITU_BODY = "ITU-T"
# Resolution 7 is about ITU-T with ISO and IEC: a candidate pair always has one side in each.
OTHER_BODIES = frozenset({"ISO", "IEC", "ISO/IEC"})
BODIES: tuple[str, ...] = ("ITU-T", "ISO", "IEC", "ISO/IEC")

# --- categories (Resolution 7) ----------------------------------------------------------------
CATEGORIES: tuple[str, ...] = ("common-text", "new-overlap", "coordinated")

# --- triage -----------------------------------------------------------------------------------
DECISIONS: tuple[str, ...] = ("coordinate", "already coordinated", "not relevant", "watch")
# Triage adds these to both pair tables.
TRIAGE_COLUMNS: tuple[str, ...] = ("decision", "comment")

# --- tables -----------------------------------------------------------------------------------
# Candidate pairs (``RunResult.pairs``, candidate_pairs.csv), one row per (ITU-T item, ISO/IEC/
# ISO-IEC item), sorted by rank. Signals are in 0..1.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "pair_id",
    "itu_uid",
    "other_uid",
    "other_body",
    "itu_committee",
    "itu_group",
    "other_committee",
    "other_group",
    "itu_reference",
    "other_reference",
    "itu_title",
    "other_title",
    "itu_stage_group",
    "other_stage_group",
    "itu_url",
    "other_url",
    "semantic",
    "lexical",
    "title",
    "explicit",
    "activity",
    "recency",
    "similarity",
    "shared_keyphrases",
    "evidence",
    "declared_relation",
    "revision_out_of_step",
    "score",
    "rank",
    "category",
    "reason",
    "area",
)

# Committee pairs (``RunResult.committee_pairs``, committee_pairs.csv), one row per ITU-T study
# group x counterpart committee, sorted by rank.
COMMITTEE_COLUMNS: tuple[str, ...] = (
    "committee_pair_id",
    "itu_sg",
    "counterpart",
    "counterpart_body",
    "score",
    "rank",
    "n_pairs",
    "n_common_text",
    "n_new_overlap",
    "n_coordinated",
    "liaison_declared",
    "strength",
    "breadth",
    "specificity",
    "coverage",
    "scope_similarity",
    "mandate_similarity",
    "keyphrase_similarity",
    "shared_keyphrases",
    "questions",
    "top_pairs",
    "reason",
)

# Areas of common interest (``RunResult.areas``, areas.csv); items gain an ``area`` column.
AREA_COLUMNS: tuple[str, ...] = (
    "area",
    "label",
    "size",
    "n_itu_t",
    "n_iso",
    "n_iec",
    "n_iso_iec",
    "committees",
    "n_active",
    "representative_items",
)


# --- ids ----------------------------------------------------------------------------------------
def pair_id(itu_uid: str, other_uid: str) -> str:
    """Stable pair id: ``"P-" + sha1(itu_uid + "|" + other_uid)[:10]``; triage joins on it."""
    return "P-" + hashlib.sha1(f"{itu_uid}|{other_uid}".encode()).hexdigest()[:10]


def committee_pair_id(itu_sg: str, counterpart: str) -> str:
    """Stable committee pair id: ``"C-" + itu_sg + "|" + counterpart``."""
    return f"C-{itu_sg}|{counterpart}"
