"""The machine-readable twins of the workbook: CSV tables and ``items.parquet``.

CSV cells pass through ``safe_cell`` like the workbook (a CSV opened in a spreadsheet is just as
able to run a formula). Parquet keeps the items as they are, list columns as lists: it is read by
programs, not spreadsheets.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.contracts import AREA_COLUMNS, CANDIDATE_COLUMNS, COMMITTEE_COLUMNS, TRIAGE_COLUMNS
from pipeline.export.cells import is_missing, safe_frame, safe_urls
from pipeline.utils.io import atomic_path

__all__ = [
    "AREA_CONTRACT",
    "CANDIDATE_CONTRACT",
    "COMMITTEE_CONTRACT",
    "body_urls_only",
    "contract_order",
    "parquet_ready",
    "write_csv",
    "write_parquet",
]

# The contracts (pipeline.contracts), in order; triage adds decision and comment.
CANDIDATE_CONTRACT: tuple[str, ...] = CANDIDATE_COLUMNS + TRIAGE_COLUMNS
COMMITTEE_CONTRACT: tuple[str, ...] = COMMITTEE_COLUMNS + TRIAGE_COLUMNS
AREA_CONTRACT: tuple[str, ...] = AREA_COLUMNS


def contract_order(frame: pd.DataFrame, contract: tuple[str, ...]) -> pd.DataFrame:
    """Contract columns first (those present), extra columns after, sorted by ``rank`` if any."""
    first = [c for c in contract if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    if "rank" in frame.columns and not frame.empty:
        frame = frame.sort_values("rank", kind="stable")
    return frame.reset_index(drop=True)


def body_urls_only(frame: pd.DataFrame) -> pd.DataFrame:
    """URL columns (``*url``) keep only the bodies' pages: a CSV opened in a spreadsheet must
    not offer a ``javascript:`` or look-alike link."""
    frame = frame.copy()
    for column in frame.columns:
        if str(column).endswith("url"):
            frame[column] = safe_urls(frame[column])
    return frame


def write_csv(path: Path, frame: pd.DataFrame, contract: tuple[str, ...] = ()) -> Path:
    """``frame`` as UTF-8 CSV at ``path`` (atomically), every text cell made inert and every URL
    a body page or empty."""
    table = safe_frame(body_urls_only(contract_order(frame, contract)))
    with atomic_path(path) as tmp:
        if not _write_csv_columns(tmp, table):
            table.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return Path(path)


def _quote_chars() -> tuple[str, ...]:
    """The characters that make the ``csv`` module quote a field, as pandas' ``to_csv`` calls it
    (comma, quote, the line terminator)."""
    chars = []
    for char in (",", '"', "\n", "\r"):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow(
            ["a" + char, ""]
        )
        if buffer.getvalue().startswith('"'):
            chars.append(char)
    return tuple(chars)


_QUOTE_CHARS = _quote_chars()
_CSV_ROWS_PER_WRITE = 20_000


def _csv_text(series: pd.Series) -> pa.Array | None:
    """The fields of one column as ``to_csv`` writes them, before quoting: numbers and flags as
    NumPy prints them (NaN empty), text as it is; ``None`` for any other column."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return pa.array(series.to_numpy().astype(str).astype(object), type=pa.string())
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        # Scores repeat: print each distinct bit pattern once (so -0.0 stays apart from 0.0).
        values = series.to_numpy()
        codes, bits = pd.factorize(values.view(f"i{dtype.itemsize}"))
        text = bits.view(dtype).astype(str).astype(object)[codes]
        text[np.isnan(values)] = ""
        return pa.array(text, type=pa.string())
    if not (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)):
        return None
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    return pa.array(values, type=pa.string())


def _csv_quoted(text: pa.Array) -> pa.Array:
    """``text`` with each field that holds a comma, quote or newline quoted (quotes doubled)."""
    needs = pa.array(np.zeros(len(text), dtype=bool))
    for char in _QUOTE_CHARS:
        needs = pc.or_(needs, pc.match_substring(text, char))
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _write_csv_columns(path: Path, table: pd.DataFrame) -> bool:
    """Write ``table`` as ``to_csv(index=False, lineterminator="\n")`` would, byte for byte, a
    column at a time (pyarrow) instead of a cell at a time; ``False`` (nothing written) for a
    table it does not cover: empty, a single column, labels or values other than text, plain
    numbers and flags."""
    labels = list(table.columns)
    if len(table) == 0 or len(labels) < 2 or not all(type(c) is str for c in labels):
        return False
    fields = [_csv_text(table.iloc[:, i]) for i in range(len(labels))]
    if any(f is None for f in fields):
        return False
    header = _csv_quoted(pa.array(labels, type=pa.string())).to_pylist()
    lines = pc.binary_join_element_wise(*[_csv_quoted(f) for f in fields], ",")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(header) + "\n")
        for start in range(0, len(lines), _CSV_ROWS_PER_WRITE):
            handle.write("\n".join(lines.slice(start, _CSV_ROWS_PER_WRITE).to_pylist()) + "\n")
    return True


def _is_listlike(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, set))


def _parquet_column(series: pd.Series) -> pd.Series:
    """A column pyarrow can store: list columns as lists of text, mixed columns as text."""
    values = series.tolist()
    present = [v for v in values if not is_missing(v)]
    if present and all(_is_listlike(v) for v in present):
        return pd.Series(
            [list(map(str, v)) if _is_listlike(v) else None for v in values],
            index=series.index,
            dtype=object,
        )
    try:
        pa.array(values, from_pandas=True)
        return series
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # A column mixing numbers and text (a carried extra): text keeps every value readable.
        return pd.Series(
            [None if is_missing(v) else str(v) for v in values], index=series.index, dtype=object
        )


def parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose object columns pyarrow can write without guessing."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = _parquet_column(out[column])
    out.columns = [str(c) for c in out.columns]
    return out.reset_index(drop=True)


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` as Parquet at ``path`` (atomically); list columns stay lists."""
    table = pa.Table.from_pandas(parquet_ready(frame), preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)
