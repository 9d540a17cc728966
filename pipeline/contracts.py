"""Every table contract in one place: bodies, categories, column lists, ids, sheet and header names.

Stages that produce a table (match, rank, areas, triage) and the ones that show it (export, the
docs) import their names from here, so a column cannot exist in one and be missing in another.
``tests/test_contracts.py`` fails when a stage produces a column not named here or misses one
that is, and when ``docs/architecture.md`` lists other columns than these.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = [
    "AREA_COLUMNS",
    "BODIES",
    "CANDIDATE_COLUMNS",
    "CATEGORIES",
    "CHANGE_COLUMNS",
    "COMMITTEE_COLUMNS",
    "DECISIONS",
    "H_COMMENT",
    "H_COUNTERPART",
    "H_DECISION",
    "H_ITU_REFERENCE",
    "H_ITU_SG",
    "H_LABEL",
    "H_OTHER_REFERENCE",
    "H_PAIR_ID",
    "H_REFERENCE",
    "H_SCORE",
    "H_STAGE",
    "H_STAGE_GROUP",
    "H_TABLE",
    "H_TITLE",
    "H_UID",
    "ITU_BODY",
    "NOT_RELEVANT",
    "OTHER_BODIES",
    "OVERLAP_COLUMNS",
    "SHEET_CANDIDATE_PAIRS",
    "SHEET_COMMITTEE_PAIRS",
    "SHEET_ITEMS",
    "SHEET_UNMATCHED",
    "SHORT_LIST_CATEGORIES",
    "TABLE_CANDIDATE",
    "TABLE_COMMITTEE",
    "TABLE_ITEMS",
    "TRIAGE_COLUMNS",
    "UNMATCHED_COLUMNS",
    "WORKBOOK_NAME",
    "candidate_sheet_mask",
    "committee_pair_id",
    "overlap_id",
    "pair_id",
]

# --- bodies -----------------------------------------------------------------------------------
ITU_BODY = "ITU-T"
# Resolution 7 is about ITU-T with ISO and IEC: a candidate pair always has one side in each.
OTHER_BODIES = frozenset({"ISO", "IEC", "ISO/IEC"})
BODIES: tuple[str, ...] = ("ITU-T", "ISO", "IEC", "ISO/IEC")

# --- categories (Resolution 7) ----------------------------------------------------------------
# From most to least known (an overlap takes the most known category of its pairs):
# ``common-text`` a declared twin, a text declaring itself "Recommendation | International
# Standard", or another part/edition of a number family with a declared common text between the
# same two committees; ``coordinated`` a relation declared on the ITU-T item or its Question, the
# other side naming the ITU-T group, or an explicit cross-reference; ``liaison-channel`` only a
# committee-level liaison (the ISO committee lists ITU as liaison organisation); ``new-overlap``
# nothing known.
CATEGORIES: tuple[str, ...] = ("common-text", "coordinated", "liaison-channel", "new-overlap")
# What the Short list shows: overlaps nobody is known to coordinate yet.
SHORT_LIST_CATEGORIES: tuple[str, ...] = ("liaison-channel", "new-overlap")

# --- triage and the workbook ------------------------------------------------------------------
# Triage adds these to both pair tables.
TRIAGE_COLUMNS: tuple[str, ...] = ("decision", "comment")
# Sheet names and the headers triage reads back from an earlier workbook: export writes them,
# triage finds them; both take them from here.
DECISIONS: tuple[str, ...] = ("coordinate", "already coordinated", "not relevant", "watch")
NOT_RELEVANT = "not relevant"

# Workbook contract shared with pipeline.export (sheet names and the headers triage reads).
WORKBOOK_NAME = "overlaps.xlsx"
SHEET_COMMITTEE_PAIRS = "Committee pairs"
SHEET_CANDIDATE_PAIRS = "Candidate pairs"
SHEET_ITEMS = "Items"
SHEET_UNMATCHED = "Unmatched decisions"
H_PAIR_ID = "Pair id"
H_DECISION = "Decision"
H_COMMENT = "Comment"
H_SCORE = "Score"
H_LABEL = "Label"
H_TABLE = "Table"
H_ITU_REFERENCE = "ITU-T reference"
H_OTHER_REFERENCE = "Other reference"
H_ITU_SG = "ITU-T SG"
H_COUNTERPART = "Counterpart"
H_UID = "Uid"
H_REFERENCE = "Reference"
H_TITLE = "Title"
H_STAGE = "Stage"
H_STAGE_GROUP = "Stage group"

TABLE_CANDIDATE = "candidate pairs"
TABLE_COMMITTEE = "committee pairs"
TABLE_ITEMS = "items"

UNMATCHED_COLUMNS: tuple[str, ...] = ("pair_id", "table", "label", "decision", "comment", "score")
CHANGE_COLUMNS: tuple[str, ...] = (
    "change",
    "table",
    "id",
    "label",
    "score_before",
    "score_after",
    "stage_before",
    "stage_after",
    "decision",
)

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
    "semantic_local",
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
    "overlap_id",
    "flagged",
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
    "n_citations",
    "cited",
    "shared_keyphrases",
    "questions",
    "top_pairs",
    "reason",
)

# Overlaps (``overlaps`` stage, overlaps.csv, the Short list sheet): candidate pairs that are the
# same overlap (parts of one ITU-T series ~ parts of one ISO/IEC number family), one row each,
# sorted by rank.
OVERLAP_COLUMNS: tuple[str, ...] = (
    "overlap_id",
    "label",
    "itu_sg",
    "itu_groups",
    "other_committee",
    "other_body",
    "category",
    "score",
    "rank",
    "sg_rank",
    "flagged",
    "n_pairs",
    "itu_references",
    "other_references",
    "shared_keyphrases",
    "reason",
    "best_pair_id",
    "pair_ids",
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


# --- which candidate pairs the workbook shows ----------------------------------------------------
def candidate_sheet_mask(pairs: pd.DataFrame) -> np.ndarray:
    """(m,) bool: the rows the *Candidate pairs* sheet shows (flagged, decided or commented,
    and every common text); candidate_pairs.csv keeps every row. Triage compares an earlier
    sheet with these rows only."""
    m = len(pairs)

    def col(name: str, default: object) -> pd.Series:
        return pairs[name] if name in pairs.columns else pd.Series([default] * m, index=pairs.index)

    flagged = col("flagged", False).fillna(False).astype(bool)
    decided = (col("decision", "").fillna("").astype(str) != "") | (
        col("comment", "").fillna("").astype(str) != ""
    )
    common = col("category", "").astype(str) == "common-text"
    return (flagged | decided | common).to_numpy(dtype=bool)


# --- ids ----------------------------------------------------------------------------------------
def pair_id(itu_uid: str, other_uid: str) -> str:
    """Stable pair id: ``"P-" + sha1(itu_uid + "|" + other_uid)[:10]``; triage joins on it."""
    return "P-" + hashlib.sha1(f"{itu_uid}|{other_uid}".encode()).hexdigest()[:10]


def overlap_id(itu_series: str, other_family: str) -> str:
    """Stable overlap id: ``"O-" + sha1(itu_series + "|" + other_family)[:10]``."""
    return "O-" + hashlib.sha1(f"{itu_series}|{other_family}".encode()).hexdigest()[:10]


def committee_pair_id(itu_sg: str, counterpart: str) -> str:
    """Stable committee pair id: ``"C-" + itu_sg + "|" + counterpart``."""
    return f"C-{itu_sg}|{counterpart}"
