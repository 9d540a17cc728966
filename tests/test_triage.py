"""Decisions survive from one run's workbook to the next; What changed lists what moved."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers_export import build_result, pair_id

from pipeline.export.workbook import write_workbook
from pipeline.results import RunResult
from pipeline.triage import (
    CHANGE_COLUMNS,
    UNMATCHED_COLUMNS,
    TriageOutcome,
    carry_over,
    demote_not_relevant,
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
