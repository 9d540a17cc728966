"""One row per overlap, and the flag that makes the short list.

Candidate pairs that are the same overlap are grouped: parts of one ITU-T series
(:func:`~pipeline.rank.families.itu_series`, ``T.840.3`` -> ``T.840``) against parts or editions
of one ISO/IEC number family (:func:`~pipeline.rank.families.number_family`, ``ISO/IEC 6048-1``
-> ``ISO/IEC 6048``), so the list reads "T.840 series ~ ISO/IEC 6048 (parts 1-5)", not ten rows.
A text without a standard number is its own series.

A pair is *eligible* when it scores at least ``flag_min_score`` and, in the short-list
categories (liaison-channel and new-overlap), its hub-corrected cosine (``semantic_local``)
reaches ``flag_min_semantic_local``: the two texts are close to each other, not merely to
everything; and its ITU-T text is more than a title (``flag_title_only``). An overlap is
*flagged* when it has an eligible pair, is among the ``max_overlaps_per_itu_item`` best such
short-list overlaps of its ITU-T text or series, and among the ``max_overlaps_per_sg`` best
such overlaps of its ITU-T study group (counted separately for the short-list categories and
for each other category); a pair is flagged when its overlap is and it is eligible itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.contracts import (
    CATEGORIES,
    ITU_BODY,
    OVERLAP_COLUMNS,
    SHORT_LIST_CATEGORIES,
    overlap_id,
)
from pipeline.rank.families import itu_series, number_family
from pipeline.references import standard_keys
from pipeline.utils.frames import str_col

__all__ = ["OverlapParams", "group_overlaps", "overlap_keys", "parts_label", "title_only_uids"]


@dataclass(frozen=True)
class OverlapParams:
    """The flag (``[overlaps]`` in default_config.toml).

    - ``flag_min_score`` (0.12): a pair is flagged only from this score up.
    - ``flag_min_semantic_local`` (0.46): and, when it is a new-overlap or liaison-channel
      pair, only from this hub-corrected cosine up. Chosen on a blind two-judge sample of the
      full corpus and checked on a second, fresh one (docs/evaluation.md, "Short list
      precision"): plain cosine and score did not separate real overlaps from boilerplate
      near the top; the hub-corrected cosine did.
    - ``max_overlaps_per_sg`` (50): at most this many flagged overlaps per ITU-T study group
      and category class (the short list, liaison-channel + new-overlap, is one class): what a
      study group's experts read in an afternoon.
    - ``max_overlaps_per_itu_item`` (2): at most this many short-list overlaps per ITU-T text
      (or series): a text that resembles many ISO/IEC families is usually a broad one, and its
      third and later overlaps were judged real about half as often as its first two
      (docs/evaluation.md). The places they leave go to the study group's next overlaps.
    - ``flag_title_only`` (false): whether a short-list pair whose ITU-T text is known by its
      title alone (no summary or scope in the snapshot) may be flagged. A short ITU-T title
      ("Fire protection") matches many ISO/IEC titles; such pairs were judged real overlaps
      about half as often as pairs with an ITU-T summary (docs/evaluation.md). They stay in
      the candidate pairs with their score.
    - ``n_keyphrases`` (5): keyphrases shown per overlap.
    """

    flag_min_score: float = 0.12
    flag_min_semantic_local: float = 0.46
    max_overlaps_per_sg: int = 50
    max_overlaps_per_itu_item: int = 2
    flag_title_only: bool = False
    n_keyphrases: int = 5


def _family_key(reference: str, body: str, uid: str) -> str:
    keys = standard_keys(reference, body)
    return number_family(keys[0]) if keys else uid


def overlap_keys(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(itu_key, other_key)`` per pair: the ITU-T series and the other side's number family
    (the uid when a side has no number). Each distinct reference is parsed once."""
    itu_refs = pairs["itu_reference"].astype(str).tolist()
    series = {r: itu_series(r) for r in set(itu_refs)}
    itu = [series[r] or u for r, u in zip(itu_refs, pairs["itu_uid"].tolist(), strict=True)]
    other_sides = list(
        zip(
            pairs["other_reference"].astype(str).tolist(),
            pairs["other_body"].astype(str).tolist(),
            strict=True,
        )
    )
    family = {rb: _family_key(rb[0], rb[1], "") for rb in set(other_sides)}
    other = [
        family[rb] or u for rb, u in zip(other_sides, pairs["other_uid"].tolist(), strict=True)
    ]
    return np.asarray(itu, dtype=object), np.asarray(other, dtype=object)


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    out: list[str] = []
    start = prev = None
    for n in sorted(set(numbers)):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(out)


def parts_label(family: str, references: list[str], body: str = "") -> str:
    """How one side of an overlap reads: the reference itself when there is one, else
    ``"ISO/IEC 6048 (parts 1-5)"`` or ``"ISO/IEC 27001 (2 texts)"``."""
    refs = list(dict.fromkeys(r for r in references if r))
    if len(refs) <= 1:
        return refs[0] if refs else family
    parts = []
    for r in refs:
        for k in standard_keys(r, body):
            m = re.search(r"-(\d+)$", k)
            if m and number_family(k) == family:
                parts.append(int(m.group(1)))
    if parts:
        return f"{family} (parts {_ranges(parts)})"
    return f"{family} ({len(refs)} texts)"


def _itu_label(series: str, references: list[str]) -> str:
    refs = list(dict.fromkeys(r for r in references if r))
    if len(refs) <= 1:
        return refs[0] if refs else series
    return f"{series} series ({', '.join(refs)})"


def _keyphrases(values: list[str], n: int) -> str:
    """The ``n`` keyphrases most frequent across ``"a; b"`` strings (ties alphabetical)."""
    counts: dict[str, int] = {}
    for s in values:
        for k in s.split(";"):
            k = k.strip()
            if k:
                counts[k] = counts.get(k, 0) + 1
    return "; ".join(k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


_ORDER = {c: n for n, c in enumerate(CATEGORIES)}


def _summarise(key: str, g: list[dict[str, object]], n_keyphrases: int) -> dict[str, object]:
    """One overlap row from its member pairs ``g`` (records, best first)."""
    best = g[0]
    category = min((str(r["category"]) for r in g), key=lambda c: _ORDER.get(c, len(_ORDER)))
    itu_refs = [str(r["itu_reference"]) for r in g]
    other_refs = [str(r["other_reference"]) for r in g]
    label = (
        f"{_itu_label(str(best['_itu_key']), itu_refs)} ~ "
        f"{parts_label(str(best['_other_key']), other_refs, str(best['other_body']))}"
    )
    return {
        "overlap_id": key,
        "label": label,
        "itu_sg": str(best["itu_committee"]),
        "itu_groups": "; ".join(dict.fromkeys(str(r["itu_group"]) for r in g if r["itu_group"])),
        "other_committee": str(best["other_committee"]),
        "other_body": str(best["other_body"]),
        "category": category,
        "score": float(best["score"]),  # type: ignore[arg-type]
        "n_pairs": len(g),
        "itu_references": "; ".join(dict.fromkeys(r for r in itu_refs if r)),
        "other_references": "; ".join(dict.fromkeys(r for r in other_refs if r)),
        "shared_keyphrases": _keyphrases([str(r["shared_keyphrases"]) for r in g], n_keyphrases),
        "reason": str(best["reason"]) + (f" ({len(g)} pairs)" if len(g) > 1 else ""),
        "best_pair_id": str(best["pair_id"]),
        "pair_ids": "; ".join(str(r["pair_id"]) for r in g),
    }


_FIELDS = (
    "overlap_id", "_itu_key", "_other_key", "category", "itu_reference", "other_reference",
    "other_body", "itu_committee", "itu_group", "other_committee", "score", "shared_keyphrases",
    "reason", "pair_id",
)  # fmt: skip


def _overlap_rows(work: pd.DataFrame, n_keyphrases: int) -> pd.DataFrame:
    """One row per ``overlap_id`` of ``work`` (pairs sorted best first). Most overlaps are one
    pair: those rows are built column-wise; only groups of several pairs go through
    :func:`_summarise` (on the corpus: 10^5 overlaps, 10^4 groups)."""
    work = work[list(_FIELDS)].fillna("")
    size = work.groupby("overlap_id", sort=False)["pair_id"].transform("size").to_numpy()
    single = work[size == 1]
    itu = single["itu_reference"].where(single["itu_reference"] != "", single["_itu_key"])
    other = single["other_reference"].where(single["other_reference"] != "", single["_other_key"])
    alone = pd.DataFrame(
        {
            "overlap_id": single["overlap_id"],
            "label": itu + " ~ " + other,
            "itu_sg": single["itu_committee"],
            "itu_groups": single["itu_group"],
            "other_committee": single["other_committee"],
            "other_body": single["other_body"],
            "category": single["category"],
            "score": single["score"].astype(float),
            "n_pairs": 1,
            "itu_references": single["itu_reference"],
            "other_references": single["other_reference"],
            "shared_keyphrases": single["shared_keyphrases"],
            "reason": single["reason"],
            "best_pair_id": single["pair_id"],
            "pair_ids": single["pair_id"],
        }
    )
    members: dict[str, list[dict[str, object]]] = {}
    several = work[size > 1]
    # Records from column lists: to_dict("records") boxes every Arrow string one by one.
    for values in zip(*(several[c].tolist() for c in _FIELDS), strict=True):
        record = dict(zip(_FIELDS, values, strict=True))
        members.setdefault(str(record["overlap_id"]), []).append(record)
    grouped = pd.DataFrame([_summarise(k, g, n_keyphrases) for k, g in members.items()])
    return pd.concat([alone, grouped], ignore_index=True) if len(grouped) else alone


def title_only_uids(items: pd.DataFrame) -> set[str]:
    """uids of the ITU-T items whose text is empty (known by their title alone)."""
    itu = items[items["body"] == ITU_BODY]
    return set(itu.loc[str_col(itu, "text") == "", "uid"].astype(str)) if len(itu) else set()


def group_overlaps(
    pairs: pd.DataFrame,
    params: OverlapParams | None = None,
    *,
    title_only: Collection[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(pairs, overlaps)``: ``pairs`` (ranked candidate pairs, any order) with ``overlap_id``
    and ``flagged`` filled in, and one row per overlap with
    :data:`~pipeline.contracts.OVERLAP_COLUMNS`, sorted by ``rank`` (best member score, ties by
    id). ``sg_rank`` is the rank within the study group and category class the cap counts.
    ``title_only``: uids of ITU-T items known by their title alone (:func:`title_only_uids`).
    """
    p = params or OverlapParams()
    if pairs.empty:
        return pairs.assign(overlap_id="", flagged=False), pd.DataFrame(
            columns=list(OVERLAP_COLUMNS)
        )
    itu_key, other_key = overlap_keys(pairs)
    ids = np.array(
        [overlap_id(a, b) for a, b in zip(itu_key.tolist(), other_key.tolist(), strict=True)]
    )
    work = pairs.assign(overlap_id=ids, _itu_key=itu_key, _other_key=other_key)
    work = work.sort_values(
        ["score", "itu_uid", "other_uid"], ascending=[False, True, True], kind="mergesort"
    )
    overlaps = _overlap_rows(work, p.n_keyphrases)
    overlaps = overlaps.sort_values(
        ["score", "overlap_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    overlaps["rank"] = np.arange(1, len(overlaps) + 1)
    short = overlaps["category"].isin(SHORT_LIST_CATEGORIES)
    cap_class = np.where(short, "short list", overlaps["category"])
    overlaps["sg_rank"] = overlaps.groupby([overlaps["itu_sg"], cap_class]).cumcount() + 1
    eligible = _eligible(pairs, p)
    if not p.flag_title_only and title_only:
        thin = pairs["itu_uid"].isin(set(title_only)).to_numpy()
        eligible &= ~(thin & pairs["category"].isin(SHORT_LIST_CATEGORIES).to_numpy())
    has_eligible = overlaps["overlap_id"].isin(set(ids[eligible])).to_numpy()
    itu_of = dict(zip(ids.tolist(), itu_key.tolist(), strict=True))
    has_eligible = has_eligible & _within_item_cap(
        overlaps["overlap_id"].map(itu_of), short & has_eligible, p.max_overlaps_per_itu_item
    )
    within_cap = (
        pd.Series(has_eligible).groupby([overlaps["itu_sg"], cap_class]).cumsum()
        <= p.max_overlaps_per_sg
    ).to_numpy()
    overlaps["flagged"] = has_eligible & within_cap
    flagged_ids = set(overlaps.loc[overlaps["flagged"], "overlap_id"])
    out = pairs.assign(overlap_id=ids, flagged=np.isin(ids, list(flagged_ids)) & eligible)
    return out, overlaps[list(OVERLAP_COLUMNS)]


def _within_item_cap(itu_key: pd.Series, counted: pd.Series, cap: int) -> np.ndarray:
    """(n,) bool over overlaps in rank order: False for a ``counted`` overlap beyond the
    ``cap``-th counted one of its ITU-T key; uncounted overlaps are never capped."""
    seen = counted.astype(int).groupby(itu_key.to_numpy()).cumsum().to_numpy()
    return ~counted.to_numpy() | (seen <= cap)


def _eligible(pairs: pd.DataFrame, p: OverlapParams) -> np.ndarray:
    """(m,) bool: the pair may be flagged (score floor; hub-corrected cosine floor for the
    short-list categories). Frames without ``semantic_local`` use ``semantic``."""
    local_col = "semantic_local" if "semantic_local" in pairs.columns else "semantic"
    local = pd.to_numeric(pairs[local_col], errors="coerce").fillna(0.0).to_numpy()
    short = pairs["category"].isin(SHORT_LIST_CATEGORIES).to_numpy()
    score = pairs["score"].to_numpy(dtype=float)
    return (score >= p.flag_min_score) & (~short | (local >= p.flag_min_semantic_local))
