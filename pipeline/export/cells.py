"""Turn frame values into what a cell should hold: inert text, a number, a date, or nothing.

Every string that can come from a source goes through :func:`as_text` (``safe_cell``), so the
workbook and the CSV twins never carry a formula, a control character or an over-long cell.
Whole columns go through :func:`by_distinct`: committees, stages, titles and reasons repeat from
row to row, so each distinct string is cleaned once and the result shared by its rows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from pipeline.utils.safety import MAX_CELL_CHARS, safe_cell, safe_url

__all__ = [
    "as_bool",
    "as_date",
    "as_number",
    "as_text",
    "by_distinct",
    "is_missing",
    "join_list",
    "safe_frame",
    "safe_urls",
    "text_column",
]

T = TypeVar("T")

_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def is_missing(value: Any) -> bool:
    """``None``, NaN, NaT and ``pd.NA`` (lists and arrays are never missing)."""
    if value is None:
        return True
    if isinstance(value, (list, tuple, np.ndarray, dict, set)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def join_list(value: Iterable[Any]) -> str:
    """``["a", "b"]`` -> ``"a; b"``: the list form the contracts use in text cells."""
    return "; ".join(str(v) for v in value if not is_missing(v))


# Committees, stages, categories repeat in every row: clean each distinct short string once
# (long texts are unique, so caching them would only hold memory).
_CACHED_CHARS = 200
_safe_short = lru_cache(maxsize=1 << 14)(safe_cell)


def _safe(text: str, max_chars: int) -> str:
    if len(text) <= _CACHED_CHARS:
        return _safe_short(text, max_chars)
    return safe_cell(text, max_chars)


def as_text(value: Any, max_chars: int = MAX_CELL_CHARS) -> str:
    """Inert text for a cell (lists joined with ``"; "``); ``""`` for missing values."""
    if isinstance(value, str):
        return _safe(value, max_chars) if value else ""
    if is_missing(value):
        return ""
    if isinstance(value, (list, tuple, np.ndarray, set)):
        value = join_list(value)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}={v}" for k, v in value.items())
    return _safe(str(value), max_chars)


def as_number(value: Any) -> float | int | None:
    """A finite int or float, else ``None`` (booleans are not numbers here)."""
    if is_missing(value) or isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_bool(value: Any) -> bool | None:
    """``True``/``False`` from booleans and their usual spellings, else ``None``."""
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    return None


def as_date(value: Any) -> dt.date | dt.datetime | str | None:
    """A date (or date-time) for full ISO dates; partial dates (``2024``, ``2024-05``) stay text
    because a spreadsheet date would invent a day; ``None`` when missing."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        # Excel has no time zones: show the wall-clock time as recorded (UTC in run.json).
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _FULL_DATE.match(text)
    if not match:
        return as_text(text) or None
    year, month, day, hour, minute, second = match.groups()
    try:
        if hour is None:
            return dt.date(int(year), int(month), int(day))
        return dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
        )
    except ValueError:
        return as_text(text)


def by_distinct(
    values: pd.Series | np.ndarray, convert: Callable[[Any], T], missing: T
) -> np.ndarray | None:
    """``[convert(v) for v in values]`` with ``missing`` for None/NaN, calling ``convert`` once
    per distinct string (an object array, in order); ``None`` unless every present value is a
    string, so the caller converts cell by cell (lists, numbers and mixed columns)."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    codes, uniques = pd.factorize(values)
    converted = [convert(v) for v in np.asarray(uniques, dtype=object).tolist()]
    converted.append(missing)  # factorize codes a missing value -1
    return np.fromiter(converted, dtype=object, count=len(converted))[codes]


def text_column(values: pd.Series | np.ndarray, max_chars: int = MAX_CELL_CHARS) -> np.ndarray:
    """:func:`as_text` of every value (an object array), each distinct string cleaned once."""
    # Distinct strings need no cache: safe_cell itself returns an inert one as it is.
    done = by_distinct(values, lambda v: safe_cell(v, max_chars), "")
    if done is not None:
        return done
    return _object_array([as_text(v, max_chars) for v in values])


def safe_urls(values: pd.Series | np.ndarray) -> np.ndarray:
    """``safe_url`` of every value (an object array; ``""`` for missing values and for any URL
    that is not a body page), each distinct URL checked once."""
    done = by_distinct(values, lambda v: safe_url(str(v)), "")
    if done is not None:
        return done
    return _object_array([safe_url("" if is_missing(v) else str(v)) for v in values])


def _object_array(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for the CSV twins: text and list columns through :func:`as_text`; numbers,
    booleans and dates kept as they are (also in an object column)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if (
            pd.api.types.is_numeric_dtype(series)
            or pd.api.types.is_bool_dtype(series)
            or pd.api.types.is_datetime64_any_dtype(series)
        ):
            continue
        done = by_distinct(series, safe_cell, "")
        out[column] = done if done is not None else [_csv_value(v) for v in series]
    return out


def _csv_value(value: Any) -> Any:
    """Numbers and booleans in an object column stay as they are; everything else is text."""
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)) and not is_missing(
        value
    ):
        return value
    return as_text(value)
