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

import logging
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from pipeline.contracts import (  # the workbook contract triage shares with export
    CHANGE_COLUMNS,
    DECISIONS,
    H_COMMENT,
    H_COUNTERPART,
    H_DECISION,
    H_ITU_REFERENCE,
    H_ITU_SG,
    H_LABEL,
    H_OTHER_REFERENCE,
    H_PAIR_ID,
    H_REFERENCE,
    H_SCORE,
    H_STAGE,
    H_STAGE_GROUP,
    H_TABLE,
    H_TITLE,
    H_UID,
    NOT_RELEVANT,
    SHEET_CANDIDATE_PAIRS,
    SHEET_COMMITTEE_PAIRS,
    SHEET_ITEMS,
    SHEET_UNMATCHED,
    TABLE_CANDIDATE,
    TABLE_COMMITTEE,
    TABLE_ITEMS,
    UNMATCHED_COLUMNS,
    WORKBOOK_NAME,
    candidate_sheet_mask,  # issue 9: rows the pair sheet shows
)
from pipeline.errors import UserError, from_os_error

__all__ = [
    "CHANGE_COLUMNS",
    "DECISIONS",
    "HEADER_SYNONYMS",
    "NOT_RELEVANT",
    "UNMATCHED_COLUMNS",
    "PreviousRun",
    "TriageOutcome",
    "TriageParams",
    "candidate_label",
    "carry_over",
    "check_previous",
    "committee_label",
    "find_columns",
    "read_decisions",
    "read_previous",
]


# How many rows from the top to look for the header row (an analyst may insert a title row).
_HEADER_SCAN_ROWS = 10

_PREVIOUS_PAIR_COLUMNS = ("pair_id", "table", "label", "score", "decision", "comment")

log = logging.getLogger(__name__)


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
    ``stage``, ``stage_group``; ``path``: the workbook read; ``problems``: what could not be
    read, in words (a sheet without a pair id column, decisions in rows without a pair id).
    """

    pairs: pd.DataFrame
    items: pd.DataFrame
    path: Path = Path(WORKBOOK_NAME)
    problems: list[str] = field(default_factory=list)


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


def _norm(header: Any) -> str:
    """A header as compared: lowercase letters and digits only (``"Pair ID"`` -> ``pairid``)."""
    return re.sub(r"[^0-9a-z]+", "", _text(header).lower())


# Other names an analyst may give a column the workbook contract needs (compared after
# :func:`_norm`). A column's own name always wins over a synonym.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    H_PAIR_ID: (
        "id",
        "pairidentifier",
        "pairref",
        "pairkey",
        "candidatepairid",
        "committeepairid",
    ),
    H_DECISION: ("decisions", "status", "verdict", "triage", "action"),
    H_COMMENT: ("comments", "note", "notes", "remark", "remarks"),
}


def find_columns(headers: Sequence[Any], wanted: Iterable[str]) -> dict[str, int]:
    """``{wanted header: column index}`` for the ``wanted`` headers found in ``headers``.

    Compared case-, space- and punctuation-insensitively; the exact name first, then its
    :data:`HEADER_SYNONYMS`; a column serves one wanted header only.
    """
    normed = [_norm(h) for h in headers]
    found: dict[str, int] = {}
    wanted = list(wanted)
    for names in (lambda w: (_norm(w),), lambda w: HEADER_SYNONYMS.get(w, ())):
        for want in wanted:
            if want in found:
                continue
            for name in names(want):
                free = [i for i, h in enumerate(normed) if h == name and i not in found.values()]
                if free:
                    found[want] = free[0]
                    break
    return found


def _find_sheet(workbook: Any, name: str) -> str | None:
    """The workbook's name for sheet ``name``, compared like headers (``"candidate pairs "``)."""
    for actual in workbook.sheetnames:
        if _norm(actual) == _norm(name):
            return actual
    return None


@dataclass
class _Sheet:
    """One sheet as read: ``rows`` are ``(row number, {wanted header: value})``; ``headers`` is
    the header row as typed (empty when none of the wanted headers was found)."""

    name: str
    headers: list[str]
    columns: dict[str, int]
    rows: list[tuple[int, dict[str, Any]]]


def _read_sheet(workbook: Any, sheet: str, wanted: Sequence[str]) -> _Sheet | None:
    """The rows of ``sheet`` keyed by the ``wanted`` headers present; ``None`` without the sheet.

    The header row is the first of the top rows holding ``wanted[0]`` (or, failing that, any
    wanted header): an analyst may insert a title row. Columns are found by name
    (:func:`find_columns`), so re-sorted, filtered or widened sheets read the same.
    """
    actual = _find_sheet(workbook, sheet)
    if actual is None:
        return None
    worksheet = workbook[actual]
    if hasattr(worksheet, "reset_dimensions"):
        # Read-only sheets trust the file's recorded size, which some tools write wrongly;
        # a decision in a row past it would be lost silently.
        worksheet.reset_dimensions()
    top: list[tuple[int, tuple[Any, ...]]] = []
    rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
    for number, row in rows:
        top.append((number, row))
        if number >= _HEADER_SCAN_ROWS:
            break
    header_at = next(
        (i for i, (_, r) in enumerate(top) if wanted[0] in find_columns(r, wanted)), None
    )
    if header_at is None:
        header_at = next((i for i, (_, r) in enumerate(top) if find_columns(r, wanted)), None)
    if header_at is None:
        return _Sheet(actual, [], {}, [])
    headers = [_text(v) for v in top[header_at][1]]
    index = find_columns(headers, wanted)
    out = []
    for number, row in [*top[header_at + 1 :], *rows]:
        record = {name: (row[i] if i < len(row) else None) for name, i in index.items()}
        if any(_text(v) for v in record.values()):
            out.append((number, record))
    return _Sheet(actual, headers, index, out)


def _missing_id(sheet: _Sheet) -> str:
    shown = ", ".join(repr(h) for h in sheet.headers if h) or "none found"
    return f"sheet {sheet.name!r} has no {H_PAIR_ID!r} column (headers: {shown})"


def _pair_rows(
    workbook: Any, sheet_name: str, table: str, label_headers: tuple[str, str]
) -> tuple[list[dict], list[str]]:
    """Rows of one pair sheet in :data:`_PREVIOUS_PAIR_COLUMNS` form, and what could not be
    read. A decision or comment without a pair id is kept (``pair_id`` empty, the label says
    where it was) so that it reaches *Unmatched decisions*."""
    sheet = _read_sheet(
        workbook, sheet_name, (H_PAIR_ID, H_DECISION, H_COMMENT, H_SCORE, *label_headers)
    )
    if sheet is None:
        return [], []
    out, no_id = [], 0
    for number, row in sheet.rows:
        pair_id = _text(row.get(H_PAIR_ID))
        decision, comment = normalize_decision(row.get(H_DECISION)), _text(row.get(H_COMMENT))
        left, right = (_text(row.get(h)) for h in label_headers)
        sep = " ~ " if table == TABLE_CANDIDATE else " × "
        label = f"{left}{sep}{right}" if left or right else ""
        if not pair_id:
            if not (decision or comment):
                continue
            no_id += 1
            label = f"{sheet.name!r} row {number}" + (f": {label}" if label else "")
        out.append(
            {
                "pair_id": pair_id,
                "table": table,
                "label": label,
                "score": _number(row.get(H_SCORE)),
                "decision": decision,
                "comment": comment,
            }
        )
    problems = []
    if H_PAIR_ID not in sheet.columns:
        problems.append(_missing_id(sheet))
    elif no_id:
        problems.append(f"sheet {sheet.name!r}: {no_id} decision(s) in rows without a pair id")
    return out, problems


def _unmatched_rows(workbook: Any) -> list[dict]:
    """Decisions an earlier run could not match: read back so they are never lost (also those
    that never had a pair id)."""
    wanted = (H_PAIR_ID, H_TABLE, H_LABEL, H_DECISION, H_COMMENT, H_SCORE)
    sheet = _read_sheet(workbook, SHEET_UNMATCHED, wanted)
    out = []
    for _, row in sheet.rows if sheet is not None else []:
        pair_id = _text(row.get(H_PAIR_ID))
        decision, comment = normalize_decision(row.get(H_DECISION)), _text(row.get(H_COMMENT))
        if not (pair_id or decision or comment):
            continue
        table = _text(row.get(H_TABLE))
        if not table:
            table = TABLE_COMMITTEE if pair_id.startswith("C-") else TABLE_CANDIDATE
        out.append(
            {
                "pair_id": pair_id,
                "table": table,
                "label": _text(row.get(H_LABEL)),
                "score": _number(row.get(H_SCORE)),
                "decision": decision,
                "comment": comment,
                "from_unmatched": True,
            }
        )
    return out


def _item_rows(workbook: Any) -> list[dict]:
    wanted = (H_UID, H_REFERENCE, H_TITLE, H_STAGE, H_STAGE_GROUP)
    sheet = _read_sheet(workbook, SHEET_ITEMS, wanted)
    out = []
    for _, row in sheet.rows if sheet is not None else []:
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


def _open_workbook(path: Path) -> Any:
    """The workbook at ``path`` (read-only), or a :class:`UserError` saying why it cannot be."""
    if not path.exists():
        raise UserError("no such file", path, key="--previous")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile) as exc:
        raise UserError(f"not an .xlsx workbook: {exc}", path, key="--previous") from exc
    except OSError as exc:
        raise from_os_error(exc, "cannot read the earlier workbook", key="--previous") from exc
    except Exception as exc:  # openpyxl raises KeyError, ValueError ... on a damaged file
        raise UserError(
            f"damaged workbook ({type(exc).__name__}: {exc})", path, key="--previous"
        ) from exc


def read_previous(path: Path) -> PreviousRun:
    """Read the pair sheets, *Unmatched decisions* and *Items* of an earlier ``overlaps.xlsx``.

    Sheets and headers are found ignoring case, spaces and punctuation, with the synonyms of
    :data:`HEADER_SYNONYMS`. A pair id that appears on a pair sheet wins over the same id on
    *Unmatched decisions*; a decision without a pair id is kept with ``pair_id`` empty.
    ``path`` may also be the earlier run's folder. What could not be read is in ``problems``.
    Raises :class:`~pipeline.errors.UserError` when the file cannot be opened as a workbook.
    """
    path = Path(path)
    if path.is_dir():
        path = path / WORKBOOK_NAME
    workbook = _open_workbook(path)
    try:
        rows, problems = _pair_rows(
            workbook,
            SHEET_CANDIDATE_PAIRS,
            TABLE_CANDIDATE,
            (H_ITU_REFERENCE, H_OTHER_REFERENCE),
        )
        more, more_problems = _pair_rows(
            workbook, SHEET_COMMITTEE_PAIRS, TABLE_COMMITTEE, (H_ITU_SG, H_COUNTERPART)
        )
        rows, problems = rows + more, problems + more_problems
        rows += _unmatched_rows(workbook)
        items = _item_rows(workbook)
        known = [
            s
            for s in (SHEET_CANDIDATE_PAIRS, SHEET_COMMITTEE_PAIRS, SHEET_UNMATCHED)
            if _find_sheet(workbook, s)
        ]
        if not known:
            problems.append(
                f"none of the sheets {SHEET_CANDIDATE_PAIRS!r}, {SHEET_COMMITTEE_PAIRS!r}, "
                f"{SHEET_UNMATCHED!r} (it has {', '.join(map(repr, workbook.sheetnames))})"
            )
    finally:
        workbook.close()
    pairs = pd.DataFrame(rows, columns=[*_PREVIOUS_PAIR_COLUMNS, "from_unmatched"])
    pairs["from_unmatched"] = pairs["from_unmatched"].fillna(False).astype(bool)
    pairs = pairs.sort_values("from_unmatched", kind="stable")
    with_id = pairs["pair_id"] != ""
    pairs = pd.concat([pairs[with_id].drop_duplicates("pair_id"), pairs[~with_id]])
    pairs = pairs.reset_index(drop=True)
    item_frame = pd.DataFrame(items, columns=["uid", "label", "stage", "stage_group"])
    return PreviousRun(
        pairs=pairs, items=item_frame.drop_duplicates("uid"), path=path, problems=problems
    )


def check_previous(path: Path, *, allow_unplaced: bool = False) -> PreviousRun:
    """:func:`read_previous`, refusing a workbook whose decisions would be lost.

    Raises :class:`~pipeline.errors.UserError` (naming the file and what is missing) when the
    workbook holds decisions and none of them has a pair id, or when it has no sheet with a
    pair id column at all; ``allow_unplaced`` turns both into warnings (the decisions then go
    to *Unmatched decisions*). Decisions without a pair id beside placed ones are a warning.
    """
    earlier = read_previous(path)
    decided = _with_decision(earlier.pairs)
    placeable = int((decided["pair_id"] != "").sum())
    no_sheet = not (earlier.pairs["pair_id"] != "").any() and earlier.problems
    if earlier.problems and (no_sheet or (len(decided) and not placeable)):
        what = (
            f"none of its {len(decided)} decision(s) can be placed"
            if len(decided)
            else "not a workbook this tool wrote"
        )
        message = f"{what}: {'; '.join(earlier.problems)}"
        if not allow_unplaced:
            raise UserError(
                f"{message}; fix the headers, or pass --allow-unplaced-decisions to go on "
                "(they are then listed under 'Unmatched decisions')",
                earlier.path,
                key="--previous",
            )
        log.warning("%s: %s", earlier.path, message)
    elif earlier.problems:
        log.warning("%s: %s", earlier.path, "; ".join(earlier.problems))
    return earlier


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
    *,
    allow_unplaced: bool = True,
) -> TriageOutcome:
    """Carry decisions from the earlier workbook ``previous`` to this run's pairs.

    ``previous_items`` (an earlier ``items.parquet``) is optional: without it the earlier stages
    come from the workbook's *Items* sheet. Returns pairs and committee pairs with ``decision``
    and ``comment`` filled and ranks recomputed, *What changed* (:data:`CHANGE_COLUMNS`) and the
    decisions that matched no pair (:data:`UNMATCHED_COLUMNS`): every decision that was not
    placed on a pair of this run, those without a pair id included. ``allow_unplaced=False``
    raises and warns as :func:`check_previous` does (the run calls that before its first
    stage).
    """
    params = params or TriageParams()
    # The run checked (and warned) before its first stage; a library caller may ask here.
    earlier = read_previous(previous) if allow_unplaced else check_previous(previous)
    decisions = _with_decision(earlier.pairs)
    with_id = decisions[decisions["pair_id"] != ""]
    pairs = demote_not_relevant(_apply_decisions(pairs, "pair_id", with_id))
    committee_pairs = demote_not_relevant(
        _apply_decisions(committee_pairs, "committee_pair_id", with_id)
    )
    current_ids = set(pairs.get("pair_id", pd.Series(dtype=str)).astype(str))
    current_ids |= set(committee_pairs.get("committee_pair_id", pd.Series(dtype=str)).astype(str))
    unmatched = decisions[~decisions["pair_id"].isin(current_ids)]
    unmatched = unmatched.reindex(columns=list(UNMATCHED_COLUMNS)).reset_index(drop=True)

    # Only rows that were on a pair sheet can be "gone": an old unmatched decision already was.
    on_sheets = earlier.pairs[~earlier.pairs["from_unmatched"] & (earlier.pairs["pair_id"] != "")]
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
