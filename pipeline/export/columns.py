"""Which columns each sheet shows, in which order, under which header, how wide, as what type.

The contract column names (docs/architecture.md) are the keys; headers are what an analyst reads.
The headers that triage reads back (Pair id, Decision, Comment, Score, ...) come from
``pipeline.contracts`` so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline import contracts

__all__ = [
    "AREA_COLUMNS",
    "CANDIDATE_COLUMNS",
    "CHANGE_SPECS",
    "COMMITTEE_COLUMNS",
    "COMMON_TEXT_COLUMNS",
    "ITEM_COLUMNS_SHOWN",
    "SHORT_LIST_COLUMNS",
    "UNMATCHED_SPECS",
    "ColumnSpec",
    "infer_specs",
    "with_extras",
]

# Cell kinds: text (one line), wrap (long text, wrapped), int, float, score (float + colour
# scale), bool, date, link (text of ``key`` linked to the URL in ``url_key`` if a body page),
# decision (drop-down).
CELL_KINDS = ("text", "wrap", "int", "float", "score", "bool", "date", "link", "decision")


@dataclass(frozen=True)
class ColumnSpec:
    """One worksheet column: frame column ``key`` shown under ``header``."""

    key: str
    header: str
    kind: str = "text"
    width: float = 14
    url_key: str = ""


def _spec(
    key: str, header: str, kind: str = "text", width: float = 14, url: str = ""
) -> ColumnSpec:
    return ColumnSpec(key=key, header=header, kind=kind, width=width, url_key=url)


CANDIDATE_COLUMNS: tuple[ColumnSpec, ...] = (
    _spec("rank", "Rank", "int", 7),
    _spec("score", contracts.H_SCORE, "score", 8),
    _spec("category", "Category", "text", 13),
    _spec("decision", contracts.H_DECISION, "decision", 18),
    _spec("comment", contracts.H_COMMENT, "wrap", 30),
    _spec("itu_committee", "ITU-T committee", "text", 10),
    _spec("itu_group", "ITU-T group", "text", 10),
    _spec("itu_reference", contracts.H_ITU_REFERENCE, "link", 18, "itu_url"),
    _spec("itu_title", "ITU-T title", "wrap", 40),
    _spec("itu_stage_group", "ITU-T stage", "text", 12),
    _spec("other_body", "Other body", "text", 9),
    _spec("other_committee", "Other committee", "text", 20),
    _spec("other_group", "Other group", "text", 10),
    _spec("other_reference", contracts.H_OTHER_REFERENCE, "link", 22, "other_url"),
    _spec("other_title", "Other title", "wrap", 40),
    _spec("other_stage_group", "Other stage", "text", 12),
    _spec("reason", "Reason", "wrap", 45),
    _spec("evidence", "Evidence", "wrap", 35),
    _spec("declared_relation", "Declared relation", "text", 12),
    _spec("revision_out_of_step", "Revision out of step", "bool", 10),
    _spec("shared_keyphrases", "Shared keyphrases", "wrap", 30),
    _spec("semantic", "Semantic", "float", 9),
    _spec("semantic_local", "Semantic (local)", "float", 9),
    _spec("lexical", "Lexical", "float", 9),
    _spec("explicit", "Explicit", "float", 9),
    _spec("activity", "Activity", "float", 9),
    _spec("recency", "Recency", "float", 9),
    _spec("area", "Area", "int", 7),
    _spec("flagged", "Flagged", "bool", 8),
    _spec("overlap_id", "Overlap id", "text", 14),
    _spec("pair_id", contracts.H_PAIR_ID, "text", 14),
    _spec("itu_uid", "ITU-T uid", "text", 22),
    _spec("other_uid", "Other uid", "text", 22),
)

# The Short list: one row per flagged overlap, grouped by study group (decisions are taken per
# pair on the Candidate pairs sheet; "Pair ids" names them).
SHORT_LIST_COLUMNS: tuple[ColumnSpec, ...] = (
    _spec("itu_sg", contracts.H_ITU_SG, "text", 9),
    _spec("sg_rank", "Rank in SG", "int", 7),
    _spec("score", contracts.H_SCORE, "score", 8),
    _spec("label", "Overlap", "wrap", 45),
    _spec("category", "Category", "text", 13),
    _spec("itu_groups", "ITU-T Questions", "text", 12),
    _spec("other_committee", "Other committee", "text", 20),
    _spec("n_pairs", "Pairs", "int", 7),
    _spec("shared_keyphrases", "Shared keyphrases", "wrap", 30),
    _spec("reason", "Reason", "wrap", 50),
    _spec("itu_references", "ITU-T references", "wrap", 18),
    _spec("other_references", "Other references", "wrap", 22),
    _spec("rank", "Rank", "int", 7),
    _spec("overlap_id", "Overlap id", "text", 14),
    _spec("pair_ids", "Pair ids", "wrap", 16),
)

COMMITTEE_COLUMNS: tuple[ColumnSpec, ...] = (
    _spec("rank", "Rank", "int", 7),
    _spec("score", contracts.H_SCORE, "score", 8),
    _spec("itu_sg", contracts.H_ITU_SG, "text", 10),
    _spec("counterpart", contracts.H_COUNTERPART, "text", 24),
    _spec("counterpart_body", "Counterpart body", "text", 11),
    _spec("decision", contracts.H_DECISION, "decision", 18),
    _spec("comment", contracts.H_COMMENT, "wrap", 30),
    _spec("n_pairs", "Pairs", "int", 8),
    _spec("n_common_text", "Common texts", "int", 9),
    _spec("n_new_overlap", "New overlaps", "int", 9),
    _spec("n_coordinated", "Coordinated", "int", 9),
    _spec("n_citations", "Citing texts", "int", 9),
    _spec("liaison_declared", "Liaison declared", "bool", 10),
    _spec("reason", "Reason", "wrap", 50),
    _spec("cited", "Cited", "wrap", 24),
    _spec("shared_keyphrases", "Shared keyphrases", "wrap", 30),
    _spec("top_pairs", "Top pairs", "wrap", 50),
    _spec("questions", "Questions", "wrap", 24),
    _spec("specificity", "Specificity", "float", 9),
    _spec("coverage", "Coverage", "score", 9),
    _spec("scope_similarity", "Scope similarity", "score", 9),
    _spec("mandate_similarity", "Mandate similarity", "score", 9),
    _spec("committee_pair_id", contracts.H_PAIR_ID, "text", 30),
)

COMMON_TEXT_COLUMNS: tuple[ColumnSpec, ...] = (
    _spec("rank", "Rank", "int", 7),
    _spec("score", contracts.H_SCORE, "score", 8),
    _spec("revision_out_of_step", "Revision out of step", "bool", 11),
    _spec("itu_committee", "ITU-T committee", "text", 10),
    _spec("itu_reference", contracts.H_ITU_REFERENCE, "link", 18, "itu_url"),
    _spec("itu_title", "ITU-T title", "wrap", 40),
    _spec("itu_stage_group", "ITU-T stage", "text", 12),
    _spec("other_committee", "Other committee", "text", 20),
    _spec("other_reference", contracts.H_OTHER_REFERENCE, "link", 22, "other_url"),
    _spec("other_title", "Other title", "wrap", 40),
    _spec("other_stage_group", "Other stage", "text", 12),
    _spec("declared_relation", "Declared relation", "text", 12),
    _spec("evidence", "Evidence", "wrap", 35),
    _spec("reason", "Reason", "wrap", 45),
    _spec("decision", contracts.H_DECISION, "text", 16),
    _spec("pair_id", contracts.H_PAIR_ID, "text", 14),
)

AREA_COLUMNS: tuple[ColumnSpec, ...] = (
    _spec("area", "Area", "int", 7),
    _spec("label", "Label", "wrap", 40),
    _spec("size", "Size", "int", 7),
    _spec("n_itu_t", "ITU-T", "int", 7),
    _spec("n_iso", "ISO", "int", 7),
    _spec("n_iec", "IEC", "int", 7),
    _spec("n_iso_iec", "ISO/IEC", "int", 8),
    _spec("n_active", "Active", "int", 7),
    _spec("committees", "Committees", "wrap", 40),
    _spec("representative_items", "Representative items", "wrap", 70),
)

ITEM_COLUMNS_SHOWN: tuple[ColumnSpec, ...] = (
    _spec("uid", contracts.H_UID, "text", 24),
    _spec("body", "Body", "text", 8),
    _spec("kind", "Kind", "text", 11),
    _spec("committee", "Committee", "text", 20),
    _spec("group", "Group", "text", 10),
    _spec("reference", contracts.H_REFERENCE, "link", 22, "url"),
    _spec("title", contracts.H_TITLE, "wrap", 45),
    _spec("stage", contracts.H_STAGE, "text", 14),
    _spec("stage_group", contracts.H_STAGE_GROUP, "text", 12),
    _spec("active", "Active", "bool", 8),
    _spec("area", "Area", "int", 7),
    _spec("updated", "Updated", "date", 11),
    _spec("snapshot", "Snapshot", "text", 16),
    _spec("declared", "Declared", "wrap", 30),
    _spec("keyphrases", "Keyphrases", "wrap", 30),
    _spec("text", "Text", "wrap", 60),
)
# Enrichment columns too bulky for a sheet (they stay in items.parquet).
ITEM_COLUMNS_HIDDEN = frozenset({"plain_text", "lemma_text", "url"})

UNMATCHED_SPECS: tuple[ColumnSpec, ...] = (
    _spec("pair_id", contracts.H_PAIR_ID, "text", 30),
    _spec("table", contracts.H_TABLE, "text", 16),
    _spec("label", contracts.H_LABEL, "wrap", 40),
    _spec("decision", contracts.H_DECISION, "text", 18),
    _spec("comment", contracts.H_COMMENT, "wrap", 40),
    _spec("score", contracts.H_SCORE, "float", 9),
)

CHANGE_SPECS: tuple[ColumnSpec, ...] = (
    _spec("change", "Change", "text", 12),
    _spec("table", "Table", "text", 16),
    _spec("id", "Id", "text", 28),
    _spec("label", "Label", "wrap", 40),
    _spec("score_before", "Score before", "float", 10),
    _spec("score_after", "Score after", "float", 10),
    _spec("stage_before", "Stage before", "text", 18),
    _spec("stage_after", "Stage after", "text", 18),
    _spec("decision", contracts.H_DECISION, "text", 18),
)


def header_for(column: str) -> str:
    """``n_active`` -> ``N active``: a readable header for a column without a fixed spec."""
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Column"


def infer_specs(frame: pd.DataFrame, columns: list[str] | None = None) -> list[ColumnSpec]:
    """Specs from dtypes for columns without a fixed layout (extras, sources, changes)."""
    specs = []
    for column in columns if columns is not None else list(frame.columns):
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            kind, width = "bool", 10
        elif pd.api.types.is_integer_dtype(series):
            kind, width = "int", 10
        elif pd.api.types.is_float_dtype(series):
            kind, width = "float", 10
        elif pd.api.types.is_datetime64_any_dtype(series):
            kind, width = "date", 12
        else:
            lengths = series.head(200).map(lambda v: len(str(v)) if v is not None else 0)
            mean = float(lengths.mean()) if len(lengths) else 0.0
            kind = "wrap" if mean > 40 else "text"
            width = min(60.0, max(10.0, mean + 2, len(str(column)) + 2))
        specs.append(ColumnSpec(key=str(column), header=header_for(column), kind=kind, width=width))
    return specs


def with_extras(
    frame: pd.DataFrame, fixed: tuple[ColumnSpec, ...], hidden: frozenset[str] = frozenset()
) -> list[ColumnSpec]:
    """The fixed layout followed by any further columns of ``frame`` (carried, never dropped),
    minus ``hidden`` and the URL columns that only feed links."""
    used = {s.key for s in fixed} | {s.url_key for s in fixed if s.url_key} | set(hidden)
    extras = [c for c in frame.columns if c not in used and not str(c).startswith("_")]
    return [*fixed, *infer_specs(frame, extras)]
