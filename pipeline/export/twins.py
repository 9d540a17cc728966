"""The machine-readable twins of the workbook: CSV tables and ``items.parquet``.

CSV cells pass through ``safe_cell`` like the workbook (a CSV opened in a spreadsheet is just as
able to run a formula). Parquet keeps the items as they are, list columns as lists: it is read by
programs, not spreadsheets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.contracts import AREA_COLUMNS, CANDIDATE_COLUMNS, COMMITTEE_COLUMNS, TRIAGE_COLUMNS
from pipeline.export.cells import is_missing, safe_frame
from pipeline.utils.io import atomic_path
from pipeline.utils.safety import safe_url

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
            frame[column] = [safe_url("" if is_missing(v) else str(v)) for v in frame[column]]
    return frame


def write_csv(path: Path, frame: pd.DataFrame, contract: tuple[str, ...] = ()) -> Path:
    """``frame`` as UTF-8 CSV at ``path`` (atomically), every text cell made inert and every URL
    a body page or empty."""
    table = safe_frame(body_urls_only(contract_order(frame, contract)))
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return Path(path)


def _is_listlike(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, set))


def _parquet_column(series: pd.Series) -> pd.Series:
    """A column pyarrow can store: list columns as lists of text, mixed columns as text."""
    values = series.tolist()
    present = [v for v in values if not is_missing(v)]
    if present and all(_is_listlike(v) for v in present):
        return pd.Series(
            [[str(x) for x in v] if _is_listlike(v) else None for v in values],
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
