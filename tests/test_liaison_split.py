"""One workbook per study group (--split-by study-group) and draft liaison statements."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from helpers_export import HOSTILE, build_result

from pipeline.export import OUTPUT_FILES, write_outputs
from pipeline.export.liaison import inert_markdown, liaison_statement
from pipeline.export.split import split_file_name, split_result, study_groups


@pytest.fixture(scope="module")
def result():
    res = build_result(n_extra=12)
    res.pairs["decision"] = ""
    res.pairs["comment"] = ""
    return res


def test_split_writes_one_workbook_per_study_group_beside_the_full_one(
    tmp_path: Path, result
) -> None:
    paths = write_outputs(tmp_path, result, split_by="study-group")
    sgs = study_groups(result)
    assert len(sgs) >= 3
    for sg in sgs:
        path = tmp_path / split_file_name(sg)
        assert paths[f"workbook:{sg}"] == path and path.is_file()
    assert (tmp_path / OUTPUT_FILES["workbook"]).is_file()
    sg = "SG17"
    book = openpyxl.load_workbook(tmp_path / split_file_name(sg), read_only=True)
    full = openpyxl.load_workbook(tmp_path / OUTPUT_FILES["workbook"], read_only=True)
    assert book.sheetnames == full.sheetnames
    sheet = book["Candidate pairs"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    col = header.index("ITU-T committee")
    values = {r[col] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values == {sg}
    short = book["Short list"]
    assert {r[0] for r in short.iter_rows(min_row=2, values_only=True)} <= {sg}


def test_split_keeps_items_and_vectors_aligned(result) -> None:
    sub = split_result(result, "SG17")
    assert len(sub.items) == len(sub.vectors) < len(result.items)
    uids = set(sub.items["uid"])
    assert set(sub.pairs["itu_uid"]) | set(sub.pairs["other_uid"]) <= uids
    assert set(sub.committee_pairs["itu_sg"]) == {"SG17"}


def test_unknown_split_is_refused(tmp_path: Path, result) -> None:
    with pytest.raises(ValueError, match="study-group"):
        write_outputs(tmp_path, result, split_by="committee")


def test_a_pair_decided_coordinate_gets_a_draft_liaison_statement(tmp_path: Path, result) -> None:
    res = build_result(n_extra=12)
    res.pairs["decision"] = ""
    res.pairs["comment"] = ""
    row = res.pairs.index[res.pairs["itu_committee"] == "SG17"][0]
    res.pairs.loc[row, "decision"] = "coordinate"
    paths = write_outputs(tmp_path, res)
    pair = res.pairs.loc[row]
    path = tmp_path / "liaison" / f"SG17-{pair['pair_id']}.md"
    assert [p for k, p in paths.items() if k.startswith("liaison:")] == [path]
    text = path.read_text("utf-8")
    for field in ("Question(s)", "Source", "Title", "For action to", "For information to",
                  "Deadline", "Contact"):  # fmt: skip
        assert f"| {field} |" in text
    assert "| Deadline |  |" in text and "| Contact |  |" in text
    assert inert_markdown(pair["itu_reference"]) in text
    assert inert_markdown(pair["other_reference"]) in text
    assert inert_markdown(pair["other_committee"]) in text
    assert "asks" in text


def test_no_decision_no_liaison_folder(tmp_path: Path, result) -> None:
    write_outputs(tmp_path, result)
    assert not (tmp_path / "liaison").exists()


@pytest.mark.parametrize("value", list(HOSTILE.values()))
def test_scraped_text_stays_inert_in_a_liaison_statement(value: str, result) -> None:
    pair = result.pairs.iloc[0].to_dict() | {"itu_title": value, "shared_keyphrases": value}
    text = liaison_statement(pair, result.items)
    body = text.split("## Body", 1)[1]
    # Every < [ ] # | of the source is escaped: no tag, link, heading or table cell survives.
    assert re.search(r"(?<!\\)[<\[\]#|]", body) is None
    for line in body.splitlines():
        assert not line.startswith(("=", "+", "@", "<", "|"))


def test_inert_markdown_escapes_markup() -> None:
    assert inert_markdown("[x](javascript:alert(1))") == r"\[x\]\(javascript:alert\(1\)\)"
    assert inert_markdown("a\n# b") == r"a \# b"
    assert inert_markdown("") == r"\-"
