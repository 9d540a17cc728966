"""One workbook per ITU-T study group (``--split-by study-group``): the same sheets, filtered.

A study group's chair and rapporteurs get the rows that concern their group: its candidate
pairs, committee pairs and overlaps, the items those pairs join (and the group's own items),
the changes and unmatched decisions about its pairs. Areas, sources and errors stay whole: they
describe the run, not one group.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from pipeline.results import RunResult

__all__ = ["SPLIT_CHOICES", "split_file_name", "split_result", "study_groups"]

# What ``--split-by`` accepts.
SPLIT_CHOICES: tuple[str, ...] = ("study-group",)


def study_groups(result: RunResult) -> list[str]:
    """The ITU-T committees (``SG17``, ``TSAG``...) with at least one candidate pair, sorted."""
    pairs = result.pairs
    if pairs.empty or "itu_committee" not in pairs.columns:
        return []
    return sorted({str(c) for c in pairs["itu_committee"] if str(c).strip()})


def split_file_name(sg: str) -> str:
    """``SG17`` -> ``overlaps-SG17.xlsx`` (anything but letters, digits and ``-`` becomes ``_``)."""
    return f"overlaps-{re.sub(r'[^A-Za-z0-9-]+', '_', sg)}.xlsx"


def _rows(frame: pd.DataFrame, column: str, keep: set[str]) -> pd.DataFrame:
    if frame is None or frame.empty or column not in frame.columns:
        return frame
    return frame[frame[column].astype(str).isin(keep)].reset_index(drop=True)


def split_result(result: RunResult, sg: str) -> RunResult:
    """``result`` restricted to study group ``sg`` (see the module docstring)."""
    pairs = _rows(result.pairs, "itu_committee", {sg})
    committee_pairs = _rows(result.committee_pairs, "itu_sg", {sg})
    overlaps = _rows(result.overlaps, "itu_sg", {sg})
    uids = set(pairs["itu_uid"].astype(str)) | set(pairs["other_uid"].astype(str))
    items = result.items
    if "committee" in items.columns:
        uids |= set(items.loc[items["committee"].astype(str) == sg, "uid"].astype(str))
    keep = items["uid"].astype(str).isin(uids).to_numpy() if "uid" in items.columns else None
    vectors = result.vectors
    if keep is not None and vectors is not None and len(vectors) == len(items):
        vectors = vectors[keep]  # row i of vectors stays row i of items
    ids = set(pairs.get("pair_id", pd.Series(dtype=str)).astype(str))
    ids |= set(committee_pairs.get("committee_pair_id", pd.Series(dtype=str)).astype(str))
    return replace(
        result,
        pairs=pairs,
        committee_pairs=committee_pairs,
        overlaps=overlaps,
        items=_rows(items, "uid", uids),
        vectors=vectors,
        changes=_rows(result.changes, "id", ids | uids),
        unmatched_decisions=result.unmatched_decisions,
        meta={**result.meta, "split": {"study_group": sg}},
    )
