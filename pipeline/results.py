"""The containers that stages hand on: what parse gives, and what a whole run gives export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.schema import ITEM_COLUMNS, RecordError

__all__ = ["ParsedInput", "RunResult"]


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(columns=list(ITEM_COLUMNS))


@dataclass
class ParsedInput:
    """Items and committees read from a snapshot or from item files, with what failed.

    ``items`` and ``committees`` follow the item schema (``pipeline.schema.items_frame``);
    committees have ``kind == "committee"``. ``sources`` has one dict per input file or URL
    (``source``, ``location``, ``records``, ``errors``, ``sha256``, ``fetched_at`` ...).
    """

    items: pd.DataFrame = field(default_factory=_empty_items)
    committees: pd.DataFrame = field(default_factory=_empty_items)
    errors: list[RecordError] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    attribution: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """Everything export needs. Row ``i`` of ``vectors`` belongs to row ``i`` of ``items``.

    - ``items``: enriched items (schema columns + ``keyphrases``, ``references`` ... + ``area``).
    - ``committees``: enriched committees.
    - ``vectors``: (n_items, dim) float32, L2-normalised.
    - ``pairs``: ranked candidate pairs (one ITU-T side, one ISO/IEC/ISO-IEC side).
    - ``committee_pairs``: ranked ITU-T study group x counterpart committee.
    - ``areas``: one row per area of common interest.
    - ``overlaps``: one row per overlap (grouped candidate pairs), with its flag.
    - ``meta``: what ``run.json`` records (inputs, config, model, seeds, versions, timings).
    """

    items: pd.DataFrame
    committees: pd.DataFrame
    vectors: np.ndarray
    pairs: pd.DataFrame
    committee_pairs: pd.DataFrame
    areas: pd.DataFrame
    errors: list[RecordError] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    attribution: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    # From triage (``--previous``): what changed since the earlier run, and the analysts'
    # decisions that no longer match a pair (kept, never dropped).
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    unmatched_decisions: pd.DataFrame = field(default_factory=pd.DataFrame)
    # One row per overlap (pipeline.contracts.OVERLAP_COLUMNS): the Short list and overlaps.csv.
    overlaps: pd.DataFrame = field(default_factory=pd.DataFrame)
