"""overlaps.xlsx read back with openpyxl: sheets, headers, drop-downs, links, types."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from helpers_export import ISO_URL, build_result
from openpyxl.worksheet.worksheet import Worksheet

from pipeline import triage
from pipeline.export import OUTPUT_FILES, write_outputs
from pipeline.export.readme import ISO_ATTRIBUTION
from pipeline.export.workbook import candidate_sheet_rows
from pipeline.utils.safety import is_body_url

TABLE_SHEETS = ("Committee pairs", "Candidate pairs", "Areas", "Common texts", "Items")


@pytest.fixture(scope="module")
def result():
    res = build_result(n_extra=12)
    res.pairs["decision"] = ""
    res.pairs["comment"] = ""
    res.pairs.loc[0, ["decision", "comment"]] = ["coordinate", "raise at the next SG17 meeting"]
    res.committee_pairs.loc[1, "decision"] = "watch"
    return res


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, result) -> Path:
    folder = tmp_path_factory.mktemp("run")
    write_outputs(folder, result)
    return folder


@pytest.fixture(scope="module")
def book(run_dir: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(run_dir / "overlaps.xlsx")


def headers(sheet: Worksheet) -> list[str]:
    return [c.value for c in sheet[1]]


def column(sheet: Worksheet, header: str) -> list:
    index = headers(sheet).index(header) + 1
    return [sheet.cell(row=r, column=index).value for r in range(2, sheet.max_row + 1)]


def test_every_output_file_is_written_and_no_temp_file_is_left(run_dir: Path) -> None:
    names = sorted(p.name for p in run_dir.iterdir())
    # "liaison": the draft for the pair decided "coordinate" (test_liaison.py reads it).
    assert names == sorted([*OUTPUT_FILES.values(), "liaison"])
    assert "run.json" not in names


def test_sheets_in_order_without_unmatched_when_there_are_none(book) -> None:
    assert book.sheetnames == [
        "Read me",
        "Short list",
        "Committee pairs",
        "Candidate pairs",
        "Areas",
        "Common texts",
        "Items",
        "What changed",
        "Sources and errors",
    ]


def test_unmatched_sheet_appears_when_decisions_are_unmatched(tmp_path: Path) -> None:
    res = build_result()
    res.unmatched_decisions = triage.pd.DataFrame(
        [{"pair_id": "P-0000000000", "table": "candidate pairs", "label": "X.1 ~ ISO 1",
          "decision": "coordinate", "comment": "", "score": 0.5}]
    )  # fmt: skip
    write_outputs(tmp_path, res)
    names = openpyxl.load_workbook(tmp_path / "overlaps.xlsx", read_only=True).sheetnames
    assert names.index("Unmatched decisions") == names.index("What changed") + 1


@pytest.mark.parametrize("name", [*TABLE_SHEETS, "Sources and errors"])
def test_table_sheets_freeze_the_header_and_filter(book, name: str) -> None:
    sheet = book[name]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    assert all(isinstance(h, str) and h for h in headers(sheet))
    assert sheet.column_dimensions["A"].width > 5


def test_pair_sheets_have_ids_uids_and_the_decision_drop_down(book, result) -> None:
    expected = {
        "Candidate pairs": candidate_sheet_rows(result.pairs)["pair_id"],
        "Committee pairs": result.committee_pairs["committee_pair_id"],
    }
    for name, ids in expected.items():
        sheet = book[name]
        assert {"Pair id", "Decision", "Comment"} <= set(headers(sheet))
        assert sorted(column(sheet, "Pair id")) == sorted(ids)
        letter = openpyxl.utils.get_column_letter(headers(sheet).index("Decision") + 1)
        lists = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
        assert len(lists) == 1
        assert lists[0].formula1 == '"' + ",".join(triage.DECISIONS) + '"'
        assert str(lists[0].sqref).startswith(f"{letter}2:{letter}")
    assert {"ITU-T uid", "Other uid"} <= set(headers(book["Candidate pairs"]))


def test_decisions_and_comments_are_prefilled(book, result) -> None:
    sheet = book["Candidate pairs"]
    rows = dict(zip(column(sheet, "Pair id"), column(sheet, "Decision"), strict=True))
    assert rows[result.pairs.loc[0, "pair_id"]] == "coordinate"
    assert "raise at the next SG17 meeting" in column(sheet, "Comment")
    sheet = book["Committee pairs"]
    committee = dict(zip(column(sheet, "Pair id"), column(sheet, "Decision"), strict=True))
    assert committee[result.committee_pairs.loc[1, "committee_pair_id"]] == "watch"


def test_rows_sorted_by_rank_and_numbers_stored_as_numbers(book) -> None:
    sheet = book["Candidate pairs"]
    ranks = column(sheet, "Rank")
    assert ranks == sorted(ranks) and ranks[0] == 1
    for header in ("Rank", "Score", "Semantic", "Area"):
        cells = [sheet.cell(row=2, column=headers(sheet).index(header) + 1)]
        assert all(c.data_type == "n" and isinstance(c.value, (int, float)) for c in cells)
    assert all(isinstance(v, bool) for v in column(sheet, "Revision out of step"))
    for header in ("Pairs", "Common texts", "Score"):
        assert all(isinstance(v, (int, float)) for v in column(book["Committee pairs"], header))


def test_item_dates_are_dates(book) -> None:
    updated = column(book["Items"], "Updated")
    assert any(isinstance(v, dt.datetime) for v in updated)
    # A month-only date stays text rather than inventing a day.
    assert "2026-03" in updated


def test_score_has_a_three_colour_scale(book) -> None:
    for name in ("Candidate pairs", "Committee pairs"):
        rules = [r for cf in book[name].conditional_formatting for r in cf.rules]
        assert any(r.type == "colorScale" and len(r.colorScale.color) == 3 for r in rules)


def test_common_texts_lists_only_common_texts_and_highlights_out_of_step(book, result) -> None:
    sheet = book["Common texts"]
    expected = set(result.pairs.loc[result.pairs["category"] == "common-text", "pair_id"])
    assert set(column(sheet, "Pair id")) == expected
    rules = [r for cf in sheet.conditional_formatting for r in cf.rules]
    assert any(r.type == "expression" and "TRUE" in r.formula[0] for r in rules)


def test_hyperlinks_only_to_body_pages(book) -> None:
    links = [
        cell.hyperlink.target
        for name in book.sheetnames
        for row in book[name].iter_rows()
        for cell in row
        if cell.hyperlink is not None
    ]
    assert links, "expected links to the bodies' pages"
    assert all(is_body_url(url) for url in links)
    assert any(url.startswith(ISO_URL) for url in links)


def test_readme_covers_the_run(book, result) -> None:
    text = "\n".join(
        str(c.value) for row in book["Read me"].iter_rows() for c in row if c.value is not None
    )
    assert ISO_ATTRIBUTION in text
    for needle in ("resolve 2", "resolve 8", "common-text", "new-overlap", "coordinated",
                   "Decision", "2025-2028", "20261130T090000Z-demo", "rank.weight_semantic",
                   "ISO/IEC", "ITU-T"):  # fmt: skip
        assert needle in text, needle
    values = [c.value for row in book["Read me"].iter_rows() for c in row]
    assert len(result.pairs) in values  # counts are numbers, not text


def test_items_sheet_carries_extra_columns(book) -> None:
    assert {"Uid", "Stage", "Stage group", "Study period", "Keyphrases"} <= set(
        headers(book["Items"])
    )


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.export import workbook

    def broken(_workbook: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(workbook.Formats, "create", broken)
    # The workbook is written in a child process; its error is raised here, by write_outputs.
    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(tmp_path, build_result())
    names = [p.name for p in tmp_path.iterdir()]
    assert "overlaps.xlsx" not in names
    assert not [n for n in names if n.endswith(".tmp")]


def test_csv_twins_follow_the_contract(run_dir: Path, result) -> None:
    import pandas as pd

    pairs = pd.read_csv(run_dir / "candidate_pairs.csv", keep_default_na=False)
    assert list(pairs.columns[:3]) == ["pair_id", "itu_uid", "other_uid"]
    assert pairs["rank"].is_monotonic_increasing and pairs["score"].dtype == float
    committee = pd.read_csv(run_dir / "committee_pairs.csv", keep_default_na=False)
    assert {"itu_sg", "counterpart", "score", "rank"} <= set(committee.columns)
    assert committee["rank"].tolist() == sorted(committee["rank"])
    areas = pd.read_csv(run_dir / "areas.csv", keep_default_na=False)
    assert areas.columns[0] == "area" and len(areas) == len(result.areas)
    items = pd.read_parquet(run_dir / "items.parquet")
    assert len(items) == len(result.items)
    declared = items.set_index("uid").loc["ITU-T:X.509", "declared"]
    assert list(declared) == ["equivalent:ISO/IEC 9594-8"]


def test_read_me_names_the_model_and_a_blank_spacy_fallback() -> None:
    from pipeline.export.readme import model_text

    text = model_text(
        {
            "embedder": "all-MiniLM-L6-v2@sha256:0430ed6e9810/seq128",
            "spacy": {"pipeline": "en_core_web_sm", "version": "3.8.0", "fallback": False},
            "cache": {"hits": 1126, "misses": 0},
        }
    )
    assert text.splitlines() == [
        "embeddings: all-MiniLM-L6-v2@sha256:0430ed6e9810/seq128",
        "spaCy: en_core_web_sm 3.8.0",
        "embedding cache: 1126 hits, 0 new",
    ]
    blank = model_text({"embedder": "hashing-512", "spacy": {"pipeline": "en", "fallback": True}})
    assert "blank English fallback" in blank


def test_candidate_sheet_shows_flagged_decided_and_common_texts_only(book, result) -> None:
    pairs = result.pairs
    shown = set(column(book["Candidate pairs"], "Pair id"))
    assert len(shown) < len(pairs)  # the CSV keeps the rest
    assert set(pairs.loc[pairs["flagged"], "pair_id"]) <= shown
    assert set(pairs.loc[pairs["category"] == "common-text", "pair_id"]) <= shown
    decided = pairs.loc[0, "pair_id"]
    assert not pairs.loc[0, "flagged"] or decided in shown
    assert decided in shown
    hidden = pairs[~pairs["pair_id"].isin(shown)]
    assert not hidden["flagged"].any() and (hidden["category"] != "common-text").all()


def test_short_list_is_flagged_uncoordinated_overlaps_grouped_by_study_group(book, result) -> None:
    sheet = book["Short list"]
    labels = column(sheet, "Overlap")
    sgs = column(sheet, "ITU-T SG")
    o = result.overlaps
    expected = o[o["flagged"] & o["category"].isin(["new-overlap", "liaison-channel"])]
    assert sorted(labels) == sorted(expected["label"]) and labels
    # Grouped: each study group's rows are contiguous, best first within the group.
    runs = [sg for n, sg in enumerate(sgs) if n == 0 or sgs[n - 1] != sg]
    assert len(runs) == len(set(sgs))
    ranks = column(sheet, "Rank in SG")
    for n in range(1, len(sgs)):
        if sgs[n] == sgs[n - 1]:
            assert ranks[n] > ranks[n - 1]
    assert set(column(sheet, "Category")) <= {"new-overlap", "liaison-channel"}


def test_items_sheet_lists_the_items_of_the_pairs_shown(book, result) -> None:
    shown = candidate_sheet_rows(result.pairs)
    expected = set(shown["itu_uid"]) | set(shown["other_uid"])
    assert set(column(book["Items"], "Uid")) == expected
    assert len(expected) < len(result.items)  # items.parquet keeps every item
