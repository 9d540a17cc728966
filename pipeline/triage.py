"""Carry the analysts' decisions from an earlier workbook to this run, and list what changed.

Runs after rank and before export (``--previous overlaps.xlsx``). Analysts triage
``overlaps.xlsx`` by filling *Decision* and *Comment* on the *Candidate pairs* and *Committee
pairs* sheets; they also re-sort, filter and add their own columns. This module therefore finds
columns by their header name, never by position, and matches rows by the stable pair id
(``P-...`` for candidate pairs, ``C-...`` for committee pairs).

Rules:

- a decision goes back to the pair with the same id; a decision already present in this run
  (from rank or an earlier carry-over) is not overwritten;
- a pair decided ``not relevant`` stays listed but moves to the bottom (ranks recomputed);
- a decision whose pair no longer exists is kept in ``unmatched`` (and the next run reads it back
  from the *Unmatched decisions* sheet): an analyst's judgement is never dropped;
- *What changed*: pairs new, gone, or whose score moved by more than ``score_change``; items
  whose stage moved (the earlier stage comes from ``previous_items`` or the earlier *Items* sheet).

The sheet and header names below are the workbook contract; ``pipeline.export`` writes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from pipeline.contracts import candidate_sheet_mask  # issue 9: rows the pair sheet shows

__all__ = [
    "CHANGE_COLUMNS",
    "DECISIONS",
    "NOT_RELEVANT",
    "UNMATCHED_COLUMNS",
    "PreviousRun",
    "TriageOutcome",
    "TriageParams",
    "candidate_label",
    "carry_over",
    "committee_label",
    "read_decisions",
    "read_previous",
]

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

# How many rows from the top to look for the header row (an analyst may insert a title row).
_HEADER_SCAN_ROWS = 10

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
_PREVIOUS_PAIR_COLUMNS = ("pair_id", "table", "label", "score", "decision", "comment")


@dataclass(frozen=True)
class TriageParams:
    """``[triage]`` in ``default_config.toml``.

    ``score_change``: a pair whose score moved by more than this (absolute, scores in 0..1) is
    listed in *What changed*.
    """

    score_change: float = 0.1


@dataclass
class TriageOutcome:
    """What :func:`carry_over` hands to export (``RunResult`` fields of the same names)."""

    pairs: pd.DataFrame
    committee_pairs: pd.DataFrame
    changes: pd.DataFrame
    unmatched: pd.DataFrame


@dataclass
class PreviousRun:
    """What an earlier workbook tells triage.

    ``pairs``: every row of both pair sheets and of *Unmatched decisions*
    (:data:`_PREVIOUS_PAIR_COLUMNS` and ``from_unmatched``); ``items``: ``uid``, ``label``,
    ``stage``, ``stage_group``.
    """

    pairs: pd.DataFrame
    items: pd.DataFrame


# --- reading an earlier workbook -------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell value as trimmed text (``None`` and NaN are empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _number(value: Any) -> float:
    """A cell value as a float, NaN when it is not a number."""
    if isinstance(value, bool) or value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def normalize_decision(value: Any) -> str:
    """One of :data:`DECISIONS` when the text matches one ignoring case and spaces; otherwise the
    text as typed (a pasted value may bypass the drop-down, and it is still the analyst's word)."""
    text = " ".join(_text(value).split())
    for choice in DECISIONS:
        if text.lower() == choice:
            return choice
    return text


def _sheet_rows(workbook: Any, sheet: str, wanted: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Rows of ``sheet`` as dicts keyed by the ``wanted`` headers that are present.

    The header row is the first of the top rows that contains the first wanted header; columns
    are found by name, so re-sorted, filtered or widened sheets read the same.
    """
    if sheet not in workbook.sheetnames:
        return
    wanted = list(wanted)
    worksheet = workbook[sheet]
    if hasattr(worksheet, "reset_dimensions"):
        # Read-only sheets trust the file's recorded size, which some tools write wrongly;
        # a decision in a row past it would be lost silently.
        worksheet.reset_dimensions()
    rows = worksheet.iter_rows(values_only=True)
    index: dict[str, int] = {}
    for _, row in zip(range(_HEADER_SCAN_ROWS), rows, strict=False):
        headers = [_text(v) for v in row]
        if wanted[0] in headers:
            index = {name: headers.index(name) for name in wanted if name in headers}
            break
    if not index:
        return
    for row in rows:
        record = {name: (row[i] if i < len(row) else None) for name, i in index.items()}
        if any(_text(v) for v in record.values()):
            yield record


def _pair_rows(workbook: Any, sheet: str, table: str, label_headers: tuple[str, str]) -> list[dict]:
    """Rows of one pair sheet in :data:`_PREVIOUS_PAIR_COLUMNS` form."""
    wanted = (H_PAIR_ID, H_DECISION, H_COMMENT, H_SCORE, *label_headers)
    out = []
    for row in _sheet_rows(workbook, sheet, wanted):
        pair_id = _text(row.get(H_PAIR_ID))
        if not pair_id:
            continue
        left, right = (_text(row.get(h)) for h in label_headers)
        sep = " ~ " if table == TABLE_CANDIDATE else " × "
        out.append(
            {
                "pair_id": pair_id,
                "table": table,
                "label": f"{left}{sep}{right}" if left or right else "",
                "score": _number(row.get(H_SCORE)),
                "decision": normalize_decision(row.get(H_DECISION)),
                "comment": _text(row.get(H_COMMENT)),
            }
        )
    return out


def _unmatched_rows(workbook: Any) -> list[dict]:
    """Decisions an earlier run could not match: read back so they are never lost."""
    wanted = (H_PAIR_ID, H_TABLE, H_LABEL, H_DECISION, H_COMMENT, H_SCORE)
    out = []
    for row in _sheet_rows(workbook, SHEET_UNMATCHED, wanted):
        pair_id = _text(row.get(H_PAIR_ID))
        if pair_id:
            table = _text(row.get(H_TABLE))
            if not table:
                table = TABLE_COMMITTEE if pair_id.startswith("C-") else TABLE_CANDIDATE
            out.append(
                {
                    "pair_id": pair_id,
                    "table": table,
                    "label": _text(row.get(H_LABEL)),
                    "score": _number(row.get(H_SCORE)),
                    "decision": normalize_decision(row.get(H_DECISION)),
                    "comment": _text(row.get(H_COMMENT)),
                    "from_unmatched": True,
                }
            )
    return out


def _item_rows(workbook: Any) -> list[dict]:
    wanted = (H_UID, H_REFERENCE, H_TITLE, H_STAGE, H_STAGE_GROUP)
    out = []
    for row in _sheet_rows(workbook, SHEET_ITEMS, wanted):
        uid = _text(row.get(H_UID))
        if uid:
            out.append(
                {
                    "uid": uid,
                    "label": _text(row.get(H_REFERENCE)) or _text(row.get(H_TITLE)),
                    "stage": _text(row.get(H_STAGE)),
                    "stage_group": _text(row.get(H_STAGE_GROUP)),
                }
            )
    return out


def read_previous(path: Path) -> PreviousRun:
    """Read the pair sheets, *Unmatched decisions* and *Items* of an earlier ``overlaps.xlsx``.

    A pair id that appears on a pair sheet wins over the same id on *Unmatched decisions*.
    ``path`` may also be the earlier run's folder.
    """
    path = Path(path)
    if path.is_dir():
        path = path / WORKBOOK_NAME
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = _pair_rows(
            workbook,
            SHEET_CANDIDATE_PAIRS,
            TABLE_CANDIDATE,
            (H_ITU_REFERENCE, H_OTHER_REFERENCE),
        )
        rows += _pair_rows(
            workbook, SHEET_COMMITTEE_PAIRS, TABLE_COMMITTEE, (H_ITU_SG, H_COUNTERPART)
        )
        rows += _unmatched_rows(workbook)
        items = _item_rows(workbook)
    finally:
        workbook.close()
    pairs = pd.DataFrame(rows, columns=[*_PREVIOUS_PAIR_COLUMNS, "from_unmatched"])
    pairs["from_unmatched"] = pairs["from_unmatched"].fillna(False).astype(bool)
    pairs = pairs.sort_values("from_unmatched", kind="stable").drop_duplicates("pair_id")
    pairs = pairs.reset_index(drop=True)
    item_frame = pd.DataFrame(items, columns=["uid", "label", "stage", "stage_group"])
    return PreviousRun(pairs=pairs, items=item_frame.drop_duplicates("uid"))


def _with_decision(frame: pd.DataFrame) -> pd.DataFrame:
    has = (frame["decision"] != "") | (frame["comment"] != "")
    return frame[has]


def read_decisions(path: Path) -> pd.DataFrame:
    """Decisions and comments from an earlier workbook, one row per pair id that has either.

    Columns :data:`UNMATCHED_COLUMNS`: ``pair_id``, ``table`` (``candidate pairs`` or
    ``committee pairs``), ``label`` (what the pair was), ``decision``, ``comment``, ``score``.
    """
    decided = _with_decision(read_previous(path).pairs)
    return decided.reindex(columns=list(UNMATCHED_COLUMNS)).reset_index(drop=True)


# --- applying them to this run ---------------------------------------------------------------


def candidate_label(row: pd.Series | dict) -> str:
    """``X.509 ~ ISO/IEC 9594-8``: how a person names a candidate pair."""
    left = _text(row.get("itu_reference")) or _text(row.get("itu_uid"))
    right = _text(row.get("other_reference")) or _text(row.get("other_uid"))
    return f"{left} ~ {right}"


def committee_label(row: pd.Series | dict) -> str:
    """``SG17 × ISO/IEC JTC 1/SC 27``."""
    return f"{_text(row.get('itu_sg'))} × {_text(row.get('counterpart'))}"


def _ensure_triage_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``decision`` and ``comment`` as text columns (empty when absent)."""
    frame = frame.copy()
    for column in ("decision", "comment"):
        values = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        frame[column] = [_text(v) for v in values]
    frame["decision"] = [normalize_decision(v) for v in frame["decision"]]
    return frame


def _apply_decisions(frame: pd.DataFrame, id_column: str, decisions: pd.DataFrame) -> pd.DataFrame:
    """Fill empty ``decision``/``comment`` cells from ``decisions`` by pair id."""
    frame = _ensure_triage_columns(frame)
    if frame.empty or id_column not in frame.columns:
        return frame
    by_id = decisions.set_index("pair_id")
    ids = frame[id_column].astype(str)
    for column in ("decision", "comment"):
        earlier = ids.map(by_id[column]).fillna("")
        frame[column] = frame[column].where(frame[column] != "", earlier)
    return frame


def demote_not_relevant(frame: pd.DataFrame) -> pd.DataFrame:
    """Pairs decided ``not relevant`` move below all others (order otherwise kept by ``rank``);
    ``rank`` is renumbered 1..n."""
    if frame.empty:
        return frame
    frame = frame.copy()
    order = frame["rank"] if "rank" in frame.columns else pd.Series(range(len(frame)))
    frame["_dropped"] = (frame["decision"] == NOT_RELEVANT).to_numpy()
    frame["_order"] = pd.to_numeric(order, errors="coerce").to_numpy()
    frame = frame.sort_values(["_dropped", "_order"], kind="stable", na_position="last")
    frame = frame.drop(columns=["_dropped", "_order"]).reset_index(drop=True)
    frame["rank"] = range(1, len(frame) + 1)
    return frame


# --- what changed ----------------------------------------------------------------------------


def _change(change: str, table: str, id_: str, label: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CHANGE_COLUMNS, "")
    row.update(change=change, table=table, id=id_, label=label)
    row["score_before"] = row["score_after"] = math.nan
    row.update(values)
    return row


def pair_changes(
    previous: pd.DataFrame,
    current: pd.DataFrame,
    id_column: str,
    table: str,
    label_of: Any,
    score_change: float,
) -> list[dict[str, Any]]:
    """New, gone and score-moved pairs of one table (``previous`` as read by
    :func:`read_previous`, restricted to rows that were on the pair sheet)."""
    before = previous.set_index("pair_id")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in current.to_dict("records"):
        pair_id = _text(record.get(id_column))
        seen.add(pair_id)
        after = _number(record.get("score"))
        decision = _text(record.get("decision"))
        if pair_id not in before.index:
            rows.append(
                _change(
                    "new", table, pair_id, label_of(record), score_after=after, decision=decision
                )
            )
            continue
        earlier = float(before.at[pair_id, "score"])
        if (
            not math.isnan(earlier)
            and not math.isnan(after)
            and abs(after - earlier) > score_change
        ):
            kind = "score up" if after > earlier else "score down"
            rows.append(
                _change(
                    kind,
                    table,
                    pair_id,
                    label_of(record),
                    score_before=earlier,
                    score_after=after,
                    decision=decision,
                )
            )
    for pair_id, old in before.iterrows():
        if pair_id not in seen:
            rows.append(
                _change(
                    "gone",
                    table,
                    str(pair_id),
                    old["label"],
                    score_before=old["score"],
                    decision=old["decision"],
                )
            )
    return rows


def stage_changes(previous_items: pd.DataFrame, items: pd.DataFrame) -> list[dict[str, Any]]:
    """Items present in both runs whose native stage or stage group differs."""
    if previous_items.empty or items.empty or "uid" not in items.columns:
        return []
    before = previous_items.drop_duplicates("uid").set_index("uid")
    rows = []
    for record in items.to_dict("records"):
        uid = _text(record.get("uid"))
        if uid not in before.index:
            continue
        old = before.loc[uid]
        old_stage, new_stage = _text(old.get("stage")), _text(record.get("stage"))
        old_group, new_group = _text(old.get("stage_group")), _text(record.get("stage_group"))
        if (old_stage, old_group) != (new_stage, new_group):
            label = _text(record.get("reference")) or _text(record.get("title"))
            rows.append(
                _change(
                    "stage moved",
                    TABLE_ITEMS,
                    uid,
                    label,
                    stage_before=_join_stage(old_stage, old_group),
                    stage_after=_join_stage(new_stage, new_group),
                )
            )
    return rows


def _join_stage(stage: str, group: str) -> str:
    """``DIS (enquiry)``: the native stage with its common group."""
    if stage and group and stage != group:
        return f"{stage} ({group})"
    return stage or group


def _items_from_frame(previous_items: pd.DataFrame) -> pd.DataFrame:
    frame = previous_items.copy()
    for column in ("uid", "stage", "stage_group"):
        if column not in frame.columns:
            frame[column] = ""
        frame[column] = [_text(v) for v in frame[column]]
    return frame[["uid", "stage", "stage_group"]]


# --- the entry point -------------------------------------------------------------------------


def carry_over(
    previous: Path,
    pairs: pd.DataFrame,
    committee_pairs: pd.DataFrame,
    items: pd.DataFrame,
    previous_items: pd.DataFrame | None = None,
    params: TriageParams | None = None,
) -> TriageOutcome:
    """Carry decisions from the earlier workbook ``previous`` to this run's pairs.

    ``previous_items`` (an earlier ``items.parquet``) is optional: without it the earlier stages
    come from the workbook's *Items* sheet. Returns pairs and committee pairs with ``decision``
    and ``comment`` filled and ranks recomputed, *What changed* (:data:`CHANGE_COLUMNS`) and the
    decisions that matched no pair (:data:`UNMATCHED_COLUMNS`).
    """
    params = params or TriageParams()
    earlier = read_previous(Path(previous))
    decisions = _with_decision(earlier.pairs)
    pairs = demote_not_relevant(_apply_decisions(pairs, "pair_id", decisions))
    committee_pairs = demote_not_relevant(
        _apply_decisions(committee_pairs, "committee_pair_id", decisions)
    )
    current_ids = set(pairs.get("pair_id", pd.Series(dtype=str)).astype(str))
    current_ids |= set(committee_pairs.get("committee_pair_id", pd.Series(dtype=str)).astype(str))
    unmatched = decisions[~decisions["pair_id"].isin(current_ids)]
    unmatched = unmatched.reindex(columns=list(UNMATCHED_COLUMNS)).reset_index(drop=True)

    # Only rows that were on a pair sheet can be "gone": an old unmatched decision already was.
    on_sheets = earlier.pairs[~earlier.pairs["from_unmatched"]]
    rows = pair_changes(
        on_sheets[on_sheets["table"] == TABLE_CANDIDATE],
        pairs[candidate_sheet_mask(pairs)],  # issue 9: the sheet shows these pairs only
        "pair_id",
        TABLE_CANDIDATE,
        candidate_label,
        params.score_change,
    )
    rows += pair_changes(
        on_sheets[on_sheets["table"] == TABLE_COMMITTEE],
        committee_pairs,
        "committee_pair_id",
        TABLE_COMMITTEE,
        committee_label,
        params.score_change,
    )
    old_items = earlier.items if previous_items is None else _items_from_frame(previous_items)
    rows += stage_changes(old_items, items)
    changes = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    return TriageOutcome(pairs, committee_pairs, changes, unmatched)
