"""Column access that tolerates missing columns and mixed cell types (items come from any file)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_list", "list_col", "str_col"]


def as_list(value: Any) -> list[str]:
    """A list cell as ``list[str]``: lists stay lists, ``"a; b"`` is split, anything else is []."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()] if value else []
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def list_col(frame: pd.DataFrame, name: str) -> list[list[str]]:
    """Column ``name`` as one ``list[str]`` per row (empty lists when the column is missing)."""
    if name not in frame.columns:
        return [[] for _ in range(len(frame))]
    return [as_list(v) for v in frame[name].tolist()]


def str_col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` as an object array of ``str``, shape (n,); missing values are ``""``."""
    if name not in frame.columns:
        return np.array([""] * len(frame), dtype=object)
    return frame[name].fillna("").astype(str).to_numpy(dtype=object)
