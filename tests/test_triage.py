"""Decisions survive from one run's workbook to the next; What changed lists what moved."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers_export import build_result, pair_id

from pipeline.errors import UserError
from pipeline.export.workbook import write_workbook
from pipeline.results import RunResult
from pipeline.triage import (
    CHANGE_COLUMNS,
    UNMATCHED_COLUMNS,
    TriageOutcome,
    carry_over,
    check_previous,
    demote_not_relevant,
    find_columns,
    read_decisions,
)


def fill_workbook(path: Path, decisions: dict[str, tuple[str, str]], sheet_name: str) -> None:
    """What an analyst does: fill Decision/Comment, re-sort the rows, add a column in front."""
    book = openpyxl.load_workbook(path)
    sheet = book[sheet_name]
    header = [c.value for c in sheet[1]]
    id_col, dec_col, com_col = (header.index(h) for h in ("Pair id", "Decision", "Comment"))
    rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    for row in rows:
        if row[id_col] in decisions:
            row[dec_col], row[com_col] = decisions[row[id_col]]
    rows.reverse()  # re-sorted by the analyst
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
    sheet.insert_cols(1)
    sheet.cell(row=1, column=1, value="My notes")
    sheet.cell(row=2, column=1, value="ask TSB")
    book.save(path)


@pytest.fixture()
def first_run(tmp_path: Path) -> tuple[RunResult, Path]:
    result = build_result(n_extra=12, n_pairs=120)
    path = write_workbook(tmp_path / "run1" / "overlaps.xlsx", result)
    return result, path


def next_result(first: RunResult, gone_pair: str, moved_pair: str, gone_cp: str) -> RunResult:
    """The same world one run later: a pair gone, one new, one score moved, a stage moved."""
    second = build_result(n_extra=12, n_pairs=120)
    pairs = second.pairs[second.pairs["pair_id"] != gone_pair].copy()
    pairs.loc[pairs["pair_id"] == moved_pair, "score"] += 0.3
    new = pairs.iloc[[0]].copy()
    new["itu_uid"], new["other_uid"] = "ITU-T:X.1280", "ISO:ISO/IEC 29115"
    new["pair_id"] = pair_id("ITU-T:X.1280", "ISO:ISO/IEC 29115")
    new["rank"] = len(pairs) + 1
    second.pairs = pd.concat([pairs, new], ignore_index=True)
    second.committee_pairs = second.committee_pairs[
        second.committee_pairs["committee_pair_id"] != gone_cp
    ].reset_index(drop=True)
    items = second.items
    items.loc[items["uid"] == "ITU-T:X.1252", ["stage", "stage_group"]] = ["Consented", "approval"]
    return second


def test_round_trip_carries_every_decision_and_keeps_the_unmatched(first_run) -> None:
    first, path = first_run
    ids = list(first.pairs["pair_id"])
    keep, drop, gone, moved = ids[0], ids[1], ids[2], ids[5]
    fill_workbook(
        path,
        {
            keep: ("coordinate", "joint meeting with SC 27 planned"),
            drop: ("Not Relevant ", "different scope"),
            gone: ("watch", "check next period"),
        },
        "Candidate pairs",
    )
    cp_ids = list(first.committee_pairs["committee_pair_id"])
    fill_workbook(
        path,
        {cp_ids[0]: ("already coordinated", "A.5 liaison"), cp_ids[3]: ("watch", "")},
        "Committee pairs",
    )

    decided = read_decisions(path)
    assert list(decided.columns) == list(UNMATCHED_COLUMNS)
    assert set(decided["pair_id"]) == {keep, drop, gone, cp_ids[0], cp_ids[3]}

    second = next_result(first, gone_pair=gone, moved_pair=moved, gone_cp=cp_ids[3])
    outcome = carry_over(path, second.pairs, second.committee_pairs, second.items)
    assert isinstance(outcome, TriageOutcome)

    by_id = outcome.pairs.set_index("pair_id")
    assert by_id.loc[keep, "decision"] == "coordinate"
    assert by_id.loc[keep, "comment"] == "joint meeting with SC 27 planned"
    assert by_id.loc[drop, "decision"] == "not relevant"
    # Listed still, but at the bottom, with ranks 1..n.
    assert outcome.pairs.iloc[-1]["pair_id"] == drop
    assert list(outcome.pairs["rank"]) == list(range(1, len(outcome.pairs) + 1))
    undecided = outcome.pairs[outcome.pairs["decision"] == ""]
    assert len(undecided) == len(outcome.pairs) - 2
    cps = outcome.committee_pairs.set_index("committee_pair_id")
    assert cps.loc[cp_ids[0], ["decision", "comment"]].tolist() == [
        "already coordinated",
        "A.5 liaison",
    ]

    assert list(outcome.unmatched.columns) == list(UNMATCHED_COLUMNS)
    unmatched = outcome.unmatched.set_index("pair_id")
    assert set(unmatched.index) == {gone, cp_ids[3]}
    assert unmatched.loc[gone, ["decision", "comment"]].tolist() == ["watch", "check next period"]
    assert unmatched.loc[gone, "label"]  # what the pair was, for a person to recognise
    assert unmatched.loc[cp_ids[3], "table"] == "committee pairs"

    changes = outcome.changes
    assert list(changes.columns) == list(CHANGE_COLUMNS)
    kinds = {(r.change, r.id) for r in changes.itertuples()}
    assert ("gone", gone) in kinds
    assert ("new", pair_id("ITU-T:X.1280", "ISO:ISO/IEC 29115")) in kinds
    assert ("score up", moved) in kinds
    assert ("gone", cp_ids[3]) in kinds
    assert ("stage moved", "ITU-T:X.1252") in kinds
    stage = changes[changes["change"] == "stage moved"].iloc[0]
    assert stage["stage_before"] == "Under study (under_study)"
    assert stage["stage_after"] == "Consented (approval)"
    assert len(changes[changes["change"].str.startswith("score")]) == 1


def test_unmatched_decisions_survive_a_second_carry_over(first_run, tmp_path: Path) -> None:
    first, path = first_run
    gone = first.pairs.loc[2, "pair_id"]
    fill_workbook(path, {gone: ("coordinate", "keep me")}, "Candidate pairs")
    second = next_result(first, gone, first.pairs.loc[5, "pair_id"], "none")
    outcome = carry_over(path, second.pairs, second.committee_pairs, second.items)
    second.pairs, second.committee_pairs = outcome.pairs, outcome.committee_pairs
    second.changes, second.unmatched_decisions = outcome.changes, outcome.unmatched
    write_workbook(tmp_path / "run2" / "overlaps.xlsx", second)

    third = carry_over(
        tmp_path / "run2" / "overlaps.xlsx", second.pairs, second.committee_pairs, second.items
    )
    assert third.unmatched.set_index("pair_id").loc[gone, "comment"] == "keep me"
    # The pair that was gone before is not "gone" again: it was never on run 2's pair sheet.
    assert not ((third.changes["change"] == "gone") & (third.changes["id"] == gone)).any()
    # Once the pair comes back, its decision goes back onto it.
    back = carry_over(
        tmp_path / "run2" / "overlaps.xlsx", first.pairs, first.committee_pairs, first.items
    )
    assert back.pairs.set_index("pair_id").loc[gone, "decision"] == "coordinate"
    assert back.unmatched.empty


def test_header_found_below_a_title_row_and_previous_items_frame_used(
    first_run, tmp_path: Path
) -> None:
    first, path = first_run
    book = openpyxl.load_workbook(path)
    sheet = book["Candidate pairs"]
    sheet.insert_rows(1)
    sheet.cell(row=1, column=1, value="Triage for SG17 meeting, March")
    header = [c.value for c in sheet[2]]
    sheet.cell(row=3, column=header.index("Decision") + 1, value="watch")
    book.save(path)
    assert read_decisions(path)["decision"].tolist() == ["watch"]
    assert read_decisions(path.parent)["decision"].tolist() == ["watch"]  # the run folder

    earlier = first.items[["uid", "stage", "stage_group"]].copy()
    earlier.loc[earlier["uid"] == "ITU-T:K.48", "stage"] = "New"
    outcome = carry_over(path, first.pairs, first.committee_pairs, first.items, earlier)
    moved = outcome.changes[outcome.changes["change"] == "stage moved"]
    assert moved["id"].tolist() == ["ITU-T:K.48"]


def test_carry_over_keeps_a_decision_already_on_the_pair(first_run) -> None:
    first, path = first_run
    pid = first.pairs.loc[0, "pair_id"]
    fill_workbook(path, {pid: ("watch", "old")}, "Candidate pairs")
    pairs = first.pairs.assign(decision="", comment="")
    pairs.loc[0, ["decision", "comment"]] = ["coordinate", "new"]
    outcome = carry_over(path, pairs, first.committee_pairs, first.items)
    assert outcome.pairs.set_index("pair_id").loc[pid, ["decision", "comment"]].tolist() == [
        "coordinate",
        "new",
    ]


def test_demote_not_relevant_keeps_order_of_the_rest() -> None:
    frame = pd.DataFrame(
        {"pair_id": list("abcd"), "rank": [1, 2, 3, 4], "decision": ["", "not relevant", "", ""]}
    )
    out = demote_not_relevant(frame)
    assert out["pair_id"].tolist() == ["a", "c", "d", "b"]
    assert out["rank"].tolist() == [1, 2, 3, 4]


# --- issue 13: decisions are never lost ----------------------------------------------------


def rename_headers(path: Path, sheet_name: str, renames: dict[str, str | None]) -> None:
    """An analyst retypes headers ("Pair ID", "decision") or deletes a column (``None``)."""
    book = openpyxl.load_workbook(path)
    sheet = book[sheet_name]
    header = [c.value for c in sheet[1]]
    for old, new in renames.items():
        column = header.index(old) + 1
        if new is None:
            sheet.delete_cols(column)
            header.pop(column - 1)
        else:
            sheet.cell(row=1, column=column, value=new)
    book.save(path)


def test_retyped_headers_still_carry_every_decision(first_run) -> None:
    first, path = first_run
    ids = list(first.pairs["pair_id"])
    fill_workbook(
        path, {ids[0]: ("coordinate", "joint meeting"), ids[1]: ("watch", "")}, "Candidate pairs"
    )
    rename_headers(
        path, "Candidate pairs", {"Pair id": " Pair ID ", "Decision": "status", "Comment": "Notes"}
    )
    outcome = carry_over(path, first.pairs, first.committee_pairs, first.items)
    by_id = outcome.pairs.set_index("pair_id")
    assert by_id.loc[ids[0], ["decision", "comment"]].tolist() == ["coordinate", "joint meeting"]
    assert by_id.loc[ids[1], "decision"] == "watch"
    # The same pairs as before: nothing is "new" because a header was retyped.
    assert not (outcome.changes["change"] == "new").any()
    assert outcome.unmatched.empty


def test_decisions_that_cannot_be_placed_are_an_error_naming_file_and_column(
    first_run,
) -> None:
    first, path = first_run
    ids = list(first.pairs["pair_id"])
    fill_workbook(
        path, {ids[0]: ("coordinate", "keep me"), ids[1]: ("watch", "")}, "Candidate pairs"
    )
    rename_headers(path, "Candidate pairs", {"Pair id": None})
    with pytest.raises(UserError, match=r"none of its 2 decision\(s\) can be placed") as info:
        check_previous(path)
    message = str(info.value)
    assert "'Candidate pairs' has no 'Pair id' column" in message
    assert str(path) in message and "--allow-unplaced-decisions" in message
    with pytest.raises(UserError):
        carry_over(path, first.pairs, first.committee_pairs, first.items, allow_unplaced=False)

    # With the flag the run goes on and both decisions land in Unmatched decisions.
    outcome = carry_over(path, first.pairs, first.committee_pairs, first.items)
    assert sorted(outcome.unmatched["decision"]) == ["coordinate", "watch"]
    assert outcome.unmatched["label"].str.contains("'Candidate pairs' row").all()
    assert (outcome.pairs["decision"] == "").all()


def test_a_decision_without_pair_id_lands_in_unmatched_and_stays_there(
    first_run, tmp_path: Path
) -> None:
    first, path = first_run
    ids = list(first.pairs["pair_id"])
    fill_workbook(path, {ids[0]: ("coordinate", ""), ids[1]: ("watch", "no id")}, "Candidate pairs")
    book = openpyxl.load_workbook(path)
    sheet = book["Candidate pairs"]
    header = [c.value for c in sheet[1]]
    id_col = header.index("Pair id") + 1
    for row in sheet.iter_rows(min_row=2):
        if row[id_col - 1].value == ids[1]:
            row[id_col - 1].value = None  # the analyst cleared the id cell
    book.save(path)

    earlier = check_previous(path)  # one placeable decision: a warning, not an error
    assert any("without a pair id" in p for p in earlier.problems)
    outcome = carry_over(path, first.pairs, first.committee_pairs, first.items)
    assert outcome.pairs.set_index("pair_id").loc[ids[0], "decision"] == "coordinate"
    (lost,) = outcome.unmatched.to_dict("records")
    assert (lost["pair_id"], lost["decision"], lost["comment"]) == ("", "watch", "no id")

    # Written to the next workbook and read back from its Unmatched decisions sheet.
    first.pairs, first.committee_pairs = outcome.pairs, outcome.committee_pairs
    first.unmatched_decisions = outcome.unmatched
    again = write_workbook(tmp_path / "run2" / "overlaps.xlsx", first)
    second = carry_over(again, first.pairs, first.committee_pairs, first.items)
    assert second.unmatched[["decision", "comment"]].values.tolist() == [["watch", "no id"]]


def test_a_file_that_is_not_a_workbook_of_this_tool_is_an_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("not a zip", encoding="utf-8")
    with pytest.raises(UserError, match=r"not an \.xlsx workbook.*notes\.xlsx / --previous"):
        check_previous(text)
    other = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Budget"
    book.active.append(["Item", "Cost"])
    book.save(other)
    with pytest.raises(UserError, match=r"not a workbook this tool wrote.*'Budget'"):
        check_previous(other)
    with pytest.raises(UserError, match="no such file"):
        check_previous(tmp_path / "absent.xlsx")


def test_headers_match_exact_names_before_synonyms() -> None:
    headers = ["Status", "Pair id", "Decision", "notes", "ID"]
    assert find_columns(headers, ["Pair id", "Decision", "Comment"]) == {
        "Pair id": 1,
        "Decision": 2,
        "Comment": 3,
    }
    assert find_columns(["pair_ID", "DECISION"], ["Pair id", "Decision"]) == {
        "Pair id": 0,
        "Decision": 1,
    }
