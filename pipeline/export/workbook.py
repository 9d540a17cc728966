"""``overlaps.xlsx``: the analyst's workbook (xlsxwriter, written atomically).

Nothing from a source is interpreted: the workbook is opened with ``strings_to_formulas`` and
``strings_to_urls`` off, every source string goes through ``safe_cell`` and hyperlinks are
written only to the bodies' own pages (``is_body_url``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Format, Workbook
from xlsxwriter.worksheet import Worksheet

from pipeline import contracts
from pipeline.contracts import SHORT_LIST_CATEGORIES, candidate_sheet_mask
from pipeline.export import columns as cols
from pipeline.export.cells import (
    as_bool,
    as_date,
    as_number,
    as_text,
    by_distinct,
    is_missing,
    safe_urls,
    text_column,
)
from pipeline.export.readme import readme_rows
from pipeline.results import RunResult
from pipeline.utils.io import atomic_path

__all__ = ["SHEETS", "candidate_sheet_rows", "short_list", "write_workbook"]

SHEET_README = "Read me"
SHEET_SHORT_LIST = "Short list"
SHEET_AREAS = "Areas"
SHEET_COMMON_TEXTS = "Common texts"
SHEET_CHANGES = "What changed"
SHEET_SOURCES = "Sources and errors"
# In workbook order; "Unmatched decisions" only appears when there are any.
SHEETS: tuple[str, ...] = (
    SHEET_README,
    SHEET_SHORT_LIST,
    contracts.SHEET_COMMITTEE_PAIRS,
    contracts.SHEET_CANDIDATE_PAIRS,
    SHEET_AREAS,
    SHEET_COMMON_TEXTS,
    contracts.SHEET_ITEMS,
    SHEET_CHANGES,
    contracts.SHEET_UNMATCHED,
    SHEET_SOURCES,
)

# Excel refuses more hyperlinks per sheet than this, and URLs longer than 2,079 characters.
MAX_LINKS_PER_SHEET = 65_530
MAX_URL_CHARS = 2_079
_HEADER_FILL = "#DDEBF7"
_HIGHLIGHT_FILL = "#FCE4D6"


@dataclass
class Formats:
    """The cell formats of one workbook (xlsxwriter formats belong to their workbook)."""

    header: Format
    text: Format
    wrap: Format
    int: Format
    float: Format
    date: Format
    datetime: Format
    link: Format
    bool: Format
    title: Format
    section: Format
    highlight: Format

    @classmethod
    def create(cls, workbook: Workbook) -> Formats:
        """Every cell is top-aligned so wrapped neighbours stay readable."""

        def make(**props: Any) -> Format:
            return workbook.add_format({"valign": "top", **props})

        return cls(
            header=make(bold=True, text_wrap=True, bg_color=_HEADER_FILL, bottom=1),
            text=make(),
            wrap=make(text_wrap=True),
            int=make(num_format="0"),
            float=make(num_format="0.00"),
            date=make(num_format="yyyy-mm-dd", align="left"),
            datetime=make(num_format="yyyy-mm-dd hh:mm", align="left"),
            link=make(font_color="#0563C1", underline=1, text_wrap=True),
            bool=make(align="center"),
            title=make(bold=True, font_size=14),
            section=make(bold=True, font_size=12, bg_color=_HEADER_FILL),
            highlight=workbook.add_format({"bg_color": _HIGHLIGHT_FILL}),
        )

    def for_kind(self, kind: str) -> Format:
        """The format a column of ``kind`` (see ``columns.CELL_KINDS``) uses."""
        return {
            "wrap": self.wrap,
            "int": self.int,
            "float": self.float,
            "score": self.float,
            "date": self.date,
            "link": self.link,
            "bool": self.bool,
            "decision": self.text,
        }.get(kind, self.text)


# One cell to write: (writer, value, format), the writer a key of :func:`_writers`; ``None``
# leaves the cell empty.
Cell = tuple[str, Any, Format] | None
_NUMBER_KINDS = ("int", "float", "score")


def cell_for(value: Any, kind: str, formats: Formats) -> Cell:
    """The cell a value of a non-link column of ``kind`` becomes; missing values none."""
    if kind in _NUMBER_KINDS:
        number = as_number(value)
        if number is not None:
            return ("number", number, formats.for_kind(kind))
        text = "" if is_missing(value) else as_text(value)
        return ("string", text, formats.text) if text else None
    if kind == "bool":
        flag = as_bool(value)
        return None if flag is None else ("boolean", flag, formats.bool)
    if kind == "date":
        date = as_date(value)
        if isinstance(date, dt.datetime):
            return ("datetime", date, formats.datetime)
        if isinstance(date, dt.date):
            return ("datetime", date, formats.date)
        return ("string", date, formats.text) if date else None
    text = as_text(value)
    return ("string", text, formats.for_kind(kind)) if text else None


def column_values(frame: pd.DataFrame, key: str) -> pd.Series:
    """Column ``key`` of ``frame`` (the last one of that name), all ``None`` when it has none."""
    if not key or key not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    column = frame[key]
    return column.iloc[:, -1] if isinstance(column, pd.DataFrame) else column


def column_cells(values: pd.Series, kind: str, formats: Formats) -> list[Cell] | np.ndarray:
    """:func:`cell_for` of every value, in row order: numbers and flags straight from a numeric
    or boolean column, text columns once per distinct string (``cells.by_distinct``), anything
    else cell by cell."""
    array = values.to_numpy()
    if kind in _NUMBER_KINDS and array.dtype.kind in "iuf":
        fmt = formats.for_kind(kind)
        return [
            ("number", v, fmt) if math.isfinite(v) else cell_for(v, kind, formats)
            for v in array.tolist()
        ]
    if kind == "bool" and array.dtype == np.bool_:
        return [("boolean", v, formats.bool) for v in array.tolist()]
    done = by_distinct(values, lambda v: cell_for(v, kind, formats), None)
    if done is not None:
        return done
    return [cell_for(v, kind, formats) for v in values.tolist()]


def link_cells(
    frame: pd.DataFrame, specs: list[cols.ColumnSpec], formats: Formats
) -> dict[int, list[Cell]]:
    """The link columns' cells by column index: the text linked to its URL when that is a body
    page no longer than Excel allows, while the sheet's hyperlink budget lasts (counted row by
    row, left to right); plain (inert) text otherwise."""
    links = {col: spec for col, spec in enumerate(specs) if spec.kind == "link"}
    if not links:
        return {}
    texts = {col: text_column(column_values(frame, s.key)) for col, s in links.items()}
    targets = {col: safe_urls(column_values(frame, s.url_key)) for col, s in links.items()}
    eligible = np.column_stack(
        [
            np.fromiter((0 < len(t) <= MAX_URL_CHARS for t in targets[c]), bool, len(frame))
            for c in links
        ]
    )
    granted = eligible & (
        np.cumsum(eligible.ravel()).reshape(eligible.shape) <= MAX_LINKS_PER_SHEET
    )
    out: dict[int, list[Cell]] = {}
    for j, col in enumerate(links):
        # The display string is ours (safe_cell'd), so a hostile title cannot become a formula.
        out[col] = [
            ("url", (target, text or "page"), formats.link)
            if ok
            else (("string", text, formats.wrap) if text else None)
            for text, target, ok in zip(texts[col], targets[col], granted[:, j], strict=True)
        ]
    return out


def _writers(sheet: Worksheet) -> dict[str, Callable[[int, int, Any, Format], Any]]:
    """The sheet's write methods by the names :data:`Cell` uses."""

    def url(row: int, col: int, value: tuple[str, str], fmt: Format) -> None:
        sheet.write_url(row, col, value[0], fmt, string=value[1])

    return {
        "string": sheet.write_string,
        "number": sheet.write_number,
        "boolean": sheet.write_boolean,
        "datetime": sheet.write_datetime,
        "url": url,
    }


def write_cells(
    sheet: Worksheet, frame: pd.DataFrame, specs: list[cols.ColumnSpec], formats: Formats
) -> None:
    """Every row of ``frame`` below the header, in row order, each cell by its column kind."""
    columns: list[Any] = [
        None if s.kind == "link" else column_cells(column_values(frame, s.key), s.kind, formats)
        for s in specs
    ]
    for col, cells in link_cells(frame, specs, formats).items():
        columns[col] = cells
    write = _writers(sheet)
    for row, cells in enumerate(zip(*columns, strict=True), start=1):
        for col, cell in enumerate(cells):
            if cell is not None:
                write[cell[0]](row, col, cell[1], cell[2])


# --- tables ----------------------------------------------------------------------------------


def write_table(
    workbook: Workbook,
    formats: Formats,
    name: str,
    frame: pd.DataFrame,
    specs: Iterable[cols.ColumnSpec],
    highlight_key: str = "",
) -> Worksheet:
    """One sheet: header row (frozen, autofilter), one row per frame row, widths and formats by
    column kind, a 3-colour scale on score columns, a drop-down on decision columns; rows whose
    ``highlight_key`` column is TRUE get a fill."""
    specs = list(specs)
    sheet = workbook.add_worksheet(name)
    for col, spec in enumerate(specs):
        sheet.set_column(col, col, spec.width, formats.for_kind(spec.kind))
        sheet.write_string(0, col, spec.header, formats.header)
    write_cells(sheet, frame, specs, formats)
    n_rows = len(frame)
    last_row = max(n_rows, 1)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, last_row, max(len(specs) - 1, 0))
    for col, spec in enumerate(specs):
        if spec.kind == "score" and n_rows:
            sheet.conditional_format(
                1,
                col,
                n_rows,
                col,
                {
                    "type": "3_color_scale",
                    "min_color": "#FFFFFF",
                    "mid_color": "#FFEB84",
                    "max_color": "#F8696B",
                },
            )
        if spec.kind == "decision":
            # Leave room below the data so a row an analyst adds still gets the drop-down.
            sheet.data_validation(
                1,
                col,
                last_row + 1000,
                col,
                {
                    "validate": "list",
                    "source": list(contracts.DECISIONS),
                    "error_type": "warning",
                    "input_title": "Decision",
                    "input_message": "Pick one; analysts' decisions carry to the next run.",
                },
            )
    keys = [s.key for s in specs]
    if highlight_key in keys and n_rows:
        letter = xl_col_to_name(keys.index(highlight_key))
        sheet.conditional_format(
            1,
            0,
            n_rows,
            len(specs) - 1,
            {"type": "formula", "criteria": f"=${letter}2=TRUE", "format": formats.highlight},
        )
    return sheet


def write_note_sheet(workbook: Workbook, formats: Formats, name: str, note: str) -> Worksheet:
    """A sheet that only says why it is empty (so the sheet list stays predictable)."""
    sheet = workbook.add_worksheet(name)
    sheet.set_column(0, 0, 100, formats.wrap)
    sheet.write_string(0, 0, note, formats.wrap)
    return sheet


# --- the Read me sheet -----------------------------------------------------------------------


def write_readme(workbook: Workbook, formats: Formats, result: RunResult) -> Worksheet:
    """Label/value rows from :func:`readme_rows`; numbers as numbers."""
    sheet = workbook.add_worksheet(SHEET_README)
    sheet.set_column(0, 0, 30, formats.wrap)
    sheet.set_column(1, 1, 110, formats.wrap)
    sheet.set_column(2, 4, 12, formats.text)
    for row, (style, cells) in enumerate(readme_rows(result, SHEETS)):
        for col, value in enumerate(cells):
            write_readme_cell(sheet, row, col, style, value, formats)
    return sheet


def write_readme_cell(
    sheet: Worksheet, row: int, col: int, style: str, value: Any, formats: Formats
) -> None:
    if isinstance(value, dt.date):
        fmt = formats.datetime if isinstance(value, dt.datetime) else formats.date
        sheet.write_datetime(row, col, value, fmt)
        return
    number = as_number(value) if not isinstance(value, str) else None
    if number is not None:
        sheet.write_number(row, col, number, formats.text)
        return
    text = as_text(value)
    if not text:
        return
    fmt = {"title": formats.title, "section": formats.section, "header": formats.header}.get(
        style, formats.wrap
    )
    if style == "row" and col == 0:
        fmt = formats.header
    sheet.write_string(row, col, text, fmt)


# --- sources and errors ----------------------------------------------------------------------


def sources_frame(result: RunResult) -> pd.DataFrame:
    """One row per input (``type`` = source) then one per error (``type`` = error)."""
    rows: list[dict[str, Any]] = [{"type": "source", **dict(s)} for s in result.sources]
    rows += [{"type": "error", **e.as_dict()} for e in result.errors]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["type", "source", "location", "reason"])
    first = [c for c in ("type", "source", "location", "stage", "reason") if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def sources_specs(frame: pd.DataFrame) -> list[cols.ColumnSpec]:
    """Inferred specs; the location links to the page when it is a body page."""
    specs = []
    for spec in cols.infer_specs(frame):
        if spec.key == "location":
            spec = cols.ColumnSpec("location", "Location", "link", 50, "location")
        elif spec.key in ("fetched_at", "created"):
            spec = cols.ColumnSpec(spec.key, spec.header, "date", 17)
        specs.append(spec)
    return specs


# --- the workbook ----------------------------------------------------------------------------


def _by_rank(frame: pd.DataFrame) -> pd.DataFrame:
    if "rank" in frame.columns and not frame.empty:
        return frame.sort_values("rank", kind="stable")
    return frame


def _areas_by_size(frame: pd.DataFrame) -> pd.DataFrame:
    if "size" in frame.columns and not frame.empty:
        return frame.sort_values("size", ascending=False, kind="stable")
    return frame


def _common_texts(pairs: pd.DataFrame) -> pd.DataFrame:
    if "category" not in pairs.columns:
        return pairs.iloc[0:0]
    return pairs[pairs["category"] == "common-text"]


def short_list(overlaps: pd.DataFrame) -> pd.DataFrame:
    """Flagged overlaps of the short-list categories, grouped by study group (the SG with the
    best overlap first), best first within each."""
    if overlaps is None or overlaps.empty or "flagged" not in overlaps.columns:
        return pd.DataFrame(columns=[s.key for s in cols.SHORT_LIST_COLUMNS])
    rows = overlaps[overlaps["flagged"].astype(bool)]
    rows = rows[rows["category"].isin(SHORT_LIST_CATEGORIES)]
    best = rows.groupby("itu_sg")["rank"].transform("min")
    return (
        rows.assign(_best=best).sort_values(["_best", "rank"], kind="stable").drop(columns="_best")
    )


def candidate_sheet_rows(pairs: pd.DataFrame) -> pd.DataFrame:
    """The rows the *Candidate pairs* sheet shows (``contracts.candidate_sheet_mask``)."""
    return pairs[candidate_sheet_mask(pairs)] if not pairs.empty else pairs


def items_on_sheet(items: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """The items of the pairs the *Candidate pairs* sheet shows (items.parquet has them all:
    45,000 items with their texts would make the workbook 11 MB on their own)."""
    if items.empty or "uid" not in items.columns or shown.empty:
        return items.iloc[0:0]
    uids = set(shown["itu_uid"].astype(str)) | set(shown["other_uid"].astype(str))
    return items[items["uid"].astype(str).isin(uids)]


def _sheet_writers(result: RunResult) -> list[Callable[[Workbook, Formats], Any]]:
    """The sheets in :data:`SHEETS` order, each a closure over the result."""
    pairs = _by_rank(result.pairs)
    shown = candidate_sheet_rows(pairs)
    shortlist = short_list(result.overlaps)
    committee_pairs = _by_rank(result.committee_pairs)
    items = items_on_sheet(result.items, shown)
    writers: list[Callable[[Workbook, Formats], Any]] = [
        lambda wb, f: write_readme(wb, f, result),
        lambda wb, f: write_table(
            wb, f, SHEET_SHORT_LIST, shortlist, cols.SHORT_LIST_COLUMNS,
        ),
        lambda wb, f: write_table(
            wb, f, contracts.SHEET_COMMITTEE_PAIRS, committee_pairs,
            cols.with_extras(committee_pairs, cols.COMMITTEE_COLUMNS),
        ),
        lambda wb, f: write_table(
            wb, f, contracts.SHEET_CANDIDATE_PAIRS, shown,
            cols.with_extras(shown, cols.CANDIDATE_COLUMNS),
        ),
        lambda wb, f: write_table(
            wb, f, SHEET_AREAS, _areas_by_size(result.areas),
            cols.with_extras(result.areas, cols.AREA_COLUMNS),
        ),
        lambda wb, f: write_table(
            wb, f, SHEET_COMMON_TEXTS, _common_texts(pairs), cols.COMMON_TEXT_COLUMNS,
            highlight_key="revision_out_of_step",
        ),
        lambda wb, f: write_table(
            wb, f, contracts.SHEET_ITEMS, items,
            cols.with_extras(items, cols.ITEM_COLUMNS_SHOWN, cols.ITEM_COLUMNS_HIDDEN),
        ),
    ]  # fmt: skip
    if result.changes is not None and not result.changes.empty:
        writers.append(
            lambda wb, f: write_table(
                wb, f, SHEET_CHANGES, result.changes,
                cols.with_extras(result.changes, cols.CHANGE_SPECS),
            )
        )  # fmt: skip
    else:
        writers.append(
            lambda wb, f: write_note_sheet(
                wb,
                f,
                SHEET_CHANGES,
                "Nothing recorded: no earlier workbook was given (--previous), or nothing "
                "changed since it.",
            )
        )
    if result.unmatched_decisions is not None and not result.unmatched_decisions.empty:
        writers.append(
            lambda wb, f: write_table(
                wb, f, contracts.SHEET_UNMATCHED, result.unmatched_decisions,
                cols.with_extras(result.unmatched_decisions, cols.UNMATCHED_SPECS),
            )
        )  # fmt: skip
    sources = sources_frame(result)
    writers.append(lambda wb, f: write_table(wb, f, SHEET_SOURCES, sources, sources_specs(sources)))
    return writers


def write_workbook(path: Path, result: RunResult) -> Path:
    """Write ``overlaps.xlsx`` for ``result`` at ``path`` (atomically) and return ``path``."""
    options = {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": False,
        "remove_timezone": True,
    }
    with atomic_path(path) as tmp:
        workbook = xlsxwriter.Workbook(str(tmp), options)
        try:
            workbook.set_properties(
                {
                    "title": "ITU-T / ISO / IEC overlaps (WTSA Resolution 7)",
                    "comments": f"run {as_text(result.meta.get('run_id', ''))}",
                }
            )
            formats = Formats.create(workbook)
            for write in _sheet_writers(result):
                write(workbook, formats)
        finally:
            workbook.close()
    return Path(path)
