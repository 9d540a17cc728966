"""Whole-column export (issue 9): each distinct string cleaned once, the same cells as one by one.

The CSV twins and the workbook clean a column per distinct value (``cells.by_distinct``), check
each distinct URL once and write the CSV a column at a time; these tests pin that the result is
what the cell-by-cell rules (``as_text``, ``safe_url``, ``DataFrame.to_csv``) give, and that a
hostile value repeated down a column stays inert in every row.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.export import workbook
from pipeline.export.cells import as_text, safe_frame, safe_urls, text_column
from pipeline.export.twins import _write_csv_columns, body_urls_only, write_csv
from pipeline.utils.safety import is_inert, safe_cell, safe_url
from pipeline.utils.text import clean_text

FORMULA = '=HYPERLINK("http://evil.example/x","click")'
TRICKY = [
    FORMULA,
    "+1+1",
    "-2",
    "@SUM(A1)",
    "\tcmd",
    "\rX",
    " lead",
    "trail ",
    "two  spaces",
    "a \nb",
    "a\n\n\nb",
    "no\u00a0break",
    "bell\x07",
    "e\u0301",  # not NFC
    "\u2003em space start",
    'ok, "quoted"\nline',
    "",
    "plain",
]


def _reference_safe_cell(text: str) -> str:
    """safe_cell without its inert fast path (the rules as written before issue 9)."""
    raw_start = text[:1]
    text = clean_text(text)
    if raw_start in ("=", "+", "-", "@", "\t", "\r", "\n") or text.startswith(
        ("=", "+", "-", "@", "\t", "\r", "\n")
    ):
        text = "'" + text
    return text


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from([*'=+-@ \t\r\n\u00a0\u2003\x07\x85e\u0301a,"']) | st.characters()
    )
)
def test_inert_text_is_exactly_what_safe_cell_leaves_alone(text: str) -> None:
    assert safe_cell(text) == _reference_safe_cell(text)
    if is_inert(text):
        assert _reference_safe_cell(text) == text


@pytest.mark.parametrize("text", TRICKY[:-3])
def test_text_that_safe_cell_changes_is_never_inert(text: str) -> None:
    assert not is_inert(text)
    assert safe_cell(text) == _reference_safe_cell(text)


def test_regex_whitespace_is_what_strip_removes() -> None:
    space = re.compile(r"\s")
    for code in range(0x3001):
        char = chr(code)
        assert bool(space.match(char)) is char.isspace(), hex(code)


def test_repeated_formula_is_neutralised_in_every_row() -> None:
    column = pd.Series([FORMULA, "plain", FORMULA, None, FORMULA] * 50, dtype="str")
    cleaned = text_column(column)
    assert list(cleaned) == [as_text(v) for v in column]
    assert all(v == "'" + FORMULA for v in cleaned[column.eq(FORMULA).to_numpy()])
    frame = safe_frame(pd.DataFrame({"title": column, "n": range(len(column))}))
    assert (frame["title"] == "'" + FORMULA).sum() == 150


@pytest.mark.parametrize("dtype", ["object", "str"])
def test_columns_clean_like_cell_by_cell(dtype: str) -> None:
    values = pd.Series([*TRICKY, *TRICKY, None, np.nan], dtype=dtype)
    assert list(text_column(values)) == [as_text(v) for v in values]


def test_mixed_columns_keep_the_cell_by_cell_rules() -> None:
    frame = pd.DataFrame({"mixed": [FORMULA, 3, 2.5, True, None, ["=a", "b"], "x"]})
    assert safe_frame(frame)["mixed"].tolist() == ["'" + FORMULA, 3, 2.5, True, "", "'=a; b", "x"]


def test_urls_are_checked_once_and_kept_only_for_body_pages() -> None:
    urls = [
        "https://www.itu.int/rec/T-REC-X.509",
        "javascript:alert(1)",
        "https://www.itu.int.evil.example/x",
        "http://user:pass@www.iso.org/x",
        None,
        " https://webstore.iec.ch/publication/1 ",
    ] * 3
    expected = [safe_url("" if v is None else v) for v in urls]
    assert list(safe_urls(pd.Series(urls, dtype="str"))) == expected
    assert list(safe_urls(pd.Series([*urls, 7], dtype=object))) == [*expected, ""]
    frame = body_urls_only(pd.DataFrame({"itu_url": urls, "title": urls}))
    assert frame["itu_url"].tolist() == expected
    # Only *url columns are link targets.
    assert frame["title"].fillna("").tolist() == ["" if v is None else v for v in urls]


def _pandas_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def test_column_csv_writer_matches_pandas_byte_for_byte(tmp_path: Path) -> None:
    n = 40
    frame = pd.DataFrame(
        {
            "text": pd.Series([TRICKY[i % len(TRICKY)] for i in range(n)], dtype="str"),
            "obj": pd.Series([f"a,b {i}" if i % 3 else 'say "hi"' for i in range(n)], dtype=object),
            "score": [0.1 * i if i % 5 else math.nan for i in range(n)],
            "odd": [-0.0, 0.0, math.inf, -math.inf, 1e-7, 1e22, 123456789.123, 2.5] * 5,
            "f32": np.linspace(0, 1, n, dtype=np.float32),
            "rank": np.arange(n, dtype=np.int64),
            "flag": [i % 2 == 0 for i in range(n)],
            "a, b": ["x"] * n,
        }
    )
    frame = safe_frame(frame)
    path = tmp_path / "out.csv"
    assert _write_csv_columns(path, frame)
    assert path.read_bytes() == _pandas_csv(frame).encode("utf-8")


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"only": ["", "a"]}),
        pd.DataFrame({"a": pd.Series([], dtype="str"), "b": pd.Series([], dtype=float)}),
        pd.DataFrame({"a": ["x", "y"], "when": pd.to_datetime(["2024-01-01", "2024-05-02"])}),
        pd.DataFrame({"a": ["x", "y"], "mixed": [1, "two"]}),
        pd.DataFrame({0: ["x", "y"], 1: ["z", "w"]}),
    ],
)
def test_tables_the_column_writer_leaves_to_pandas(frame: pd.DataFrame, tmp_path: Path) -> None:
    assert not _write_csv_columns(tmp_path / "skip.csv", frame)
    write_csv(tmp_path / "out.csv", frame)
    assert (tmp_path / "out.csv").read_text("utf-8") == _pandas_csv(safe_frame(frame))


def test_csv_with_repeated_hostile_values_reads_back_inert(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "title": [FORMULA, "@SUM(A1)", "ok"] * 100,
            "other_url": ["javascript:alert(1)", "https://www.iso.org/standard/1.html", ""] * 100,
            "score": np.linspace(0, 1, 300),
        }
    )
    write_csv(tmp_path / "pairs.csv", frame)
    with open(tmp_path / "pairs.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["title"] for r in rows} == {"'" + FORMULA, "'@SUM(A1)", "ok"}
    assert {r["other_url"] for r in rows} == {"", "https://www.iso.org/standard/1.html"}


def test_link_budget_is_spent_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the sheet's hyperlink limit, cells are plain text; the budget goes in row order."""
    monkeypatch.setattr(workbook, "MAX_LINKS_PER_SHEET", 3)
    good = "https://www.itu.int/rec/T-REC-X.{}"
    frame = pd.DataFrame(
        {
            "a": ["A0", "A1", "A2", "=A3"],
            "a_url": [good.format(0), "javascript:x", good.format(2), good.format(3)],
            "b": ["B0", "", "B2", "B3"],
            "b_url": [good.format(10), good.format(11), "https://evil.example/", good.format(13)],
        }
    )
    specs = [
        workbook.cols.ColumnSpec("a", "A", "link", 10, "a_url"),
        workbook.cols.ColumnSpec("b", "B", "link", 10, "b_url"),
    ]
    path = tmp_path / "links.xlsx"
    book = workbook.xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    workbook.write_table(book, workbook.Formats.create(book), "Links", frame, specs)
    book.close()
    sheet = openpyxl.load_workbook(path)["Links"]
    cells = [[sheet.cell(r, c) for c in (1, 2)] for r in range(2, 6)]
    links = [[c.hyperlink.target if c.hyperlink else None for c in row] for row in cells]
    assert links == [
        [good.format(0), good.format(10)],
        [None, good.format(11)],  # the third link: the budget is spent
        [None, None],
        [None, None],
    ]
    values = [[c.value for c in row] for row in cells]
    assert values == [["A0", "B0"], ["A1", "page"], ["A2", "B2"], ["'=A3", "B3"]]


def test_workbook_cells_match_cell_by_cell_rules() -> None:
    """column_cells gives cell_for of each value, whatever the column's dtype."""
    book = workbook.xlsxwriter.Workbook(io.BytesIO())
    formats = workbook.Formats.create(book)
    columns = {
        "text": pd.Series([*TRICKY, None, *TRICKY], dtype="str"),
        "int": pd.Series([1, 2, 3]),
        "float": pd.Series([0.5, math.nan, math.inf, -0.0]),
        "bool": pd.Series([True, False]),
        "date": pd.Series(["2024-05-01", "2024", None, "2024-13-40", "=1"], dtype=object),
        "mixed": pd.Series([1, "2", None, True, ["x"], FORMULA], dtype=object),
    }
    for kind in ("text", "wrap", "int", "float", "score", "bool", "date", "decision"):
        for values in columns.values():
            got = list(workbook.column_cells(values, kind, formats))
            assert got == [workbook.cell_for(v, kind, formats) for v in values.tolist()]
    book.close()
