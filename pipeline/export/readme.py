"""What the *Read me* sheet (and the report's header) says: coverage, parameters, how to read it.

Pure functions from a :class:`RunResult` to rows of plain values; the writers decide the look.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from pipeline import contracts
from pipeline.contracts import SHORT_LIST_CATEGORIES
from pipeline.export.cells import as_date, is_missing
from pipeline.results import RunResult
from pipeline.schema import BODIES

__all__ = [
    "CATEGORY_TEXT",
    "ISO_ATTRIBUTION",
    "Row",
    "attribution_lines",
    "body_counts",
    "flatten_config",
    "readme_rows",
    "snapshot_dates",
    "study_periods",
]

ISO_ATTRIBUTION = (
    "Contains information from ISO Open Data, made available under the ODC Attribution License "
    "(ODC-By 1.0)"
)

PURPOSE = (
    "WTSA Resolution 7 asks ITU-T, ISO and IEC (including ISO/IEC JTC 1) to review each other's "
    "programmes early (resolve 2), and ITU-T study groups to keep jointly drafted common texts "
    "aligned and to cooperate where interests meet (resolve 8). This workbook lists the ITU-T "
    "work that overlaps ISO, IEC and ISO/IEC work, ranked by how much it needs coordination."
)

CATEGORY_TEXT: dict[str, str] = {
    "common-text": (
        "Resolution 7 resolve 8: a declared twin text (equivalent numbers), a text that calls "
        "itself 'Recommendation | International Standard', or another part/edition of a number "
        "family that already has a declared common text between the same two committees. Both "
        "sides must stay aligned; 'Revision out of step' flags one side being revised while the "
        "other is not."
    ),
    "coordinated": (
        "A relation is declared on the ITU-T item or its Question, the other side names the "
        "ITU-T group, or one side cites the other's text. Ranked lower."
    ),
    "liaison-channel": (
        "Only a committee-level liaison exists (the ISO/IEC committee lists ITU as a liaison "
        "organisation): a channel to use, but nothing says this topic is coordinated. On the "
        "Short list."
    ),
    "new-overlap": (
        "Resolution 7 resolves 2 and 8: similar work with nothing declared. The candidates for "
        "a new liaison or early review of each other's programme. On the Short list."
    ),
}

SCORE_TEXT = (
    "Each candidate pair gets signals between 0 and 1: Semantic (meaning of title and text, "
    "sentence embeddings; Semantic (local) is the same less what both texts share with "
    "everything on the other side, such as boilerplate, and a new overlap is flagged only "
    "when it is high enough), Lexical (shared keyphrases), Explicit (one side cites the other's "
    "standard or committee), Activity (both sides still being developed, early stages count "
    "more) and Recency (recent changes). The score is their weighted sum (weights under "
    "Parameters, table 'rank'); Reason names the signals that drove it. A committee pair "
    "(ITU-T study group x counterpart committee) scores the candidate pairs between them and "
    "the texts of either side that cite the other's standards (Cited); a committee with "
    "subcommittees also has a row for its whole family ('with its subcommittees')."
)

TRIAGE_STEPS = (
    "1. Start on 'Short list' (flagged overlaps nobody is known to coordinate, per study "
    "group), then 'Committee pairs' and 'Candidate pairs' (decide there, per pair; the Short "
    "list names each overlap's pairs).",
    "2. In 'Decision' pick one of: " + ", ".join(contracts.DECISIONS) + "; add a 'Comment'.",
    "3. Sort, filter and add your own columns freely: the next run finds Decision and Comment "
    "by their header and each row by its 'Pair id'.",
    "4. Give this workbook to the next run (--previous): decisions carry over, pairs decided "
    "'not relevant' move to the bottom, 'What changed' lists new, gone and moved pairs and "
    "items whose stage moved, and decisions that match no pair any more are kept on "
    "'Unmatched decisions'.",
    "5. Only links to itu.int, iso.org and iec.ch pages are clickable; text from the sources "
    "is shown as text, never evaluated.",
)

SHEET_TEXT: dict[str, str] = {
    "Read me": "This sheet.",
    "Committee pairs": "ITU-T study group x ISO/IEC/IEC committee, ranked; triage here first.",
    "Short list": (
        "Flagged overlaps (liaison-channel and new-overlap), grouped per study group: pairs "
        "that are the same overlap (parts of one series against parts of one standard) are "
        "one row. An ITU-T text known by its title alone is not flagged here, and each "
        "ITU-T text shows at most its best two overlaps (Parameters, table 'overlaps')."
    ),
    "Candidate pairs": (
        "ITU-T item x ISO/IEC/IEC item, ranked, with signals and evidence: flagged and decided "
        "pairs and every common text (candidate_pairs.csv keeps every pair)."
    ),
    "Areas": "Areas of common interest: clusters of items across bodies.",
    "Common texts": "Declared twin texts; revision out of step highlighted.",
    "Items": (
        "The items of the pairs on 'Candidate pairs', with stage, area and public page "
        "(items.parquet has every item considered)."
    ),
    "What changed": "Pairs new, gone or moved since the earlier run; items whose stage moved.",
    "Unmatched decisions": "Earlier decisions whose pair no longer exists (kept, never dropped).",
    "Sources and errors": "Every input read, and every record that could not be used.",
}

# One workbook row: a style (title, section, header, row, text, blank) and its cell values.
Row = tuple[str, list[Any]]


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series([], dtype=object)


def _distinct(values: Iterable[Any]) -> list[str]:
    out = sorted({str(v).strip() for v in values if not is_missing(v) and str(v).strip()})
    return out


def _count_true(frame: pd.DataFrame, column: str) -> int:
    if frame is None or frame.empty or column not in frame.columns:
        return 0
    return int(frame[column].fillna(False).astype(bool).sum())


def _short_list_count(overlaps: pd.DataFrame) -> int:
    if overlaps is None or overlaps.empty or "flagged" not in overlaps.columns:
        return 0
    short = overlaps["category"].isin(SHORT_LIST_CATEGORIES)
    return int((overlaps["flagged"].astype(bool) & short).sum())


def body_counts(items: pd.DataFrame) -> pd.DataFrame:
    """Per body: ``items``, ``active``, ``committees``; bodies in :data:`BODIES` order."""
    if items.empty or "body" not in items.columns:
        return pd.DataFrame(columns=["body", "items", "active", "committees"])
    frame = pd.DataFrame(
        {
            "body": items["body"].astype(str),
            "active": items.get("active", pd.Series(False, index=items.index))
            .fillna(False)
            .astype(bool),
            "committee": items.get("committee", pd.Series("", index=items.index)),
        }
    )
    grouped = frame.groupby("body", sort=False).agg(
        items=("body", "size"), active=("active", "sum"), committees=("committee", "nunique")
    )
    order = [b for b in BODIES if b in grouped.index] + [
        b for b in grouped.index if b not in BODIES
    ]
    return grouped.loc[order].reset_index()


def study_periods(result: RunResult) -> list[str]:
    """From ``meta["periods"]`` or the items' ``study_period`` column (ITU-T)."""
    given = result.meta.get("periods")
    if given:
        return [str(p) for p in (given if isinstance(given, (list, tuple)) else [given])]
    return _distinct(_column(result.items, "study_period"))


def snapshot_dates(result: RunResult) -> list[str]:
    """Snapshot ids or dates from ``meta["snapshot"]`` and the items' ``snapshot`` column."""
    snapshot = result.meta.get("snapshot")
    found: list[str] = [str(d) for d in result.meta.get("snapshot_dates") or [] if d]
    if isinstance(snapshot, dict):
        found += [f"{k}: {v}" for k, v in snapshot.items()]
    elif snapshot and str(snapshot) not in found:
        found.append(str(snapshot))
    return found + [s for s in _distinct(_column(result.items, "snapshot")) if s not in found]


def flatten_config(config: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``{"rank": {"k": 1}}`` -> ``[("rank.k", 1)]``; lists joined as text."""
    if not isinstance(config, dict):
        return [(prefix, config)] if prefix else []
    rows: list[tuple[str, Any]] = []
    for key, value in config.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            rows += flatten_config(value, name)
        elif isinstance(value, (list, tuple)):
            rows.append((name, ", ".join(str(v) for v in value)))
        else:
            rows.append((name, value))
    return rows


def attribution_lines(result: RunResult) -> list[str]:
    """``result.attribution`` plus the ISO Open Data notice (ODC-By asks for it always)."""
    lines = [str(a) for a in result.attribution if str(a).strip()]
    if not any("ISO Open Data" in line for line in lines):
        lines.append(ISO_ATTRIBUTION)
    return lines


def _inputs_rows(meta: dict[str, Any]) -> list[Row]:
    inputs = meta.get("inputs") or []
    if not isinstance(inputs, list) or not inputs:
        return []
    rows: list[Row] = [("header", ["Input", "Path", "Records", "sha256"])]
    for entry in inputs:
        entry = entry if isinstance(entry, dict) else {"path": entry}
        rows.append(
            ("row", ["", entry.get("path", ""), entry.get("records", ""), entry.get("sha256", "")])
        )
    return rows


def model_text(model: Any) -> str:
    """run.json's ``model`` as lines a person reads: the embedder, the spaCy pipeline (and
    whether it fell back to blank English), the embedding cache's hits and misses."""
    if not isinstance(model, dict):
        return str(model or "")
    lines = [f"embeddings: {model.get('embedder', '')}"]
    spacy = model.get("spacy")
    if isinstance(spacy, dict):
        name = spacy.get("pipeline") or spacy.get("requested", "")
        fallback = " (blank English fallback)" if spacy.get("fallback") else ""
        lines.append(f"spaCy: {name} {spacy.get('version', '')}{fallback}".rstrip())
    elif spacy:
        lines.append(f"spaCy: {spacy}")
    cache = model.get("cache")
    if isinstance(cache, dict):
        lines.append(f"embedding cache: {cache.get('hits', 0)} hits, {cache.get('misses', 0)} new")
    return "\n".join(lines)


def readme_rows(result: RunResult, sheets: Iterable[str]) -> list[Row]:
    """Everything the *Read me* sheet shows, top to bottom."""
    meta = result.meta or {}
    counts = body_counts(result.items)
    rows: list[Row] = [
        ("title", ["ITU-T / ISO / IEC work that may need coordination"]),
        ("text", ["Purpose", PURPOSE]),
        ("blank", []),
        ("section", ["What this run covered", ""]),
        ("row", ["Run", meta.get("run_id", "")]),
        ("row", ["Created", as_date(meta.get("created", ""))]),
        ("row", ["Bodies", ", ".join(str(b) for b in counts["body"]) or "none"]),
        ("row", ["Study periods", ", ".join(study_periods(result)) or "not recorded"]),
        ("row", ["Snapshots", "\n".join(snapshot_dates(result)) or "not recorded"]),
        ("row", ["Model", model_text(meta.get("model", ""))]),
        ("row", ["Seed", meta.get("seed", "")]),
        ("row", ["Candidate pairs", len(result.pairs)]),
        ("row", ["Flagged pairs", _count_true(result.pairs, "flagged")]),
        ("row", ["Short list (overlaps)", _short_list_count(result.overlaps)]),
        ("row", ["Committee pairs", len(result.committee_pairs)]),
        ("row", ["Areas", len(result.areas)]),
        ("row", ["Errors", len(result.errors)]),
        ("header", ["Items per body", "Body", "Items", "Active", "Committees"]),
    ]
    for record in counts.to_dict("records"):
        rows.append(
            (
                "text",
                ["", record["body"], record["items"], record["active"], record["committees"]],
            )
        )
    rows += _inputs_rows(meta)
    rows += [("blank", []), ("section", ["Parameters", ""])]
    rows += [("row", [name, value]) for name, value in flatten_config(meta.get("config", {}))]
    rows += [
        ("blank", []),
        ("section", ["How the score works", ""]),
        ("text", ["Score", SCORE_TEXT]),
        ("blank", []),
        ("section", ["What each category means", ""]),
    ]
    rows += [("row", [name, text]) for name, text in CATEGORY_TEXT.items()]
    rows += [("blank", []), ("section", ["How to triage", ""])]
    rows += [("text", ["", step]) for step in TRIAGE_STEPS]
    rows += [("blank", []), ("section", ["Sheets", ""])]
    rows += [("row", [name, SHEET_TEXT.get(name, "")]) for name in sheets]
    rows += [("blank", []), ("section", ["Data attribution", ""])]
    rows += [("text", ["", line]) for line in attribution_lines(result)]
    return rows
