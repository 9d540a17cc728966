"""Rank committee pairs: ITU-T study group x ISO/IEC/ISO-IEC committee, from their item pairs.

A committee pair is scored from all its candidate pairs: the mean of the top-m pair scores (a
single strong pair cannot dominate many medium ones), a saturating sum (breadth) and, when
committee vectors are given, the similarity of the study group's profile and the committee's
scope (:class:`~pipeline.rank.params.CommitteeParams`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.committees import (
    body_of_committee,
    canonical_committee,
    itu_study_group,
    parent_committee,
)
from pipeline.contracts import COMMITTEE_COLUMNS, ITU_BODY, OTHER_BODIES, committee_pair_id
from pipeline.evidence import itu_liaison_committees, parse_declared
from pipeline.rank.params import CommitteeParams
from pipeline.utils.frames import str_col
from pipeline.utils.vectors import l2_normalise

__all__ = ["committee_profiles", "rank_committee_pairs"]


def committee_profiles(
    items: pd.DataFrame,
    item_vectors: np.ndarray | None,
    committees: pd.DataFrame | None,
    committee_vectors: np.ndarray | Mapping[str, np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """Committee -> unit vector: its scope record's vector when given, else (for committees
    without a scope record, e.g. ITU-T study groups) the mean of its items' vectors.

    ``committee_vectors``: (len(committees), d) aligned with ``committees`` rows, or a mapping
    committee -> vector; ``None`` gives no profiles at all.
    """
    out: dict[str, np.ndarray] = {}
    if committee_vectors is None:
        return out
    if isinstance(committee_vectors, Mapping):
        for name, vec in committee_vectors.items():
            out[canonical_committee(str(name))] = np.asarray(vec, dtype=np.float32)
    elif committees is not None and len(committees) == len(committee_vectors):
        names = str_col(committees.reset_index(drop=True), "committee")
        cv = l2_normalise(np.asarray(committee_vectors, dtype=np.float32))
        for name, vec in zip(names, cv, strict=True):
            out.setdefault(canonical_committee(name), vec)
    if item_vectors is not None and len(item_vectors) == len(items):
        comm = str_col(items, "committee")
        for name in sorted(set(comm) - set(out)):
            rows = np.flatnonzero(comm == name)
            out[name] = l2_normalise(item_vectors[rows].mean(axis=0, keepdims=True))[0]
    return out


@dataclass(frozen=True)
class _Universe:
    """Which committee pairs get a row, and what is declared about them."""

    keys: list[tuple[str, str]]
    groups: dict[tuple[str, str], pd.DataFrame]
    liaison_committees: set[str]
    sg_declared: dict[str, set[str]]


def _universe(
    items: pd.DataFrame,
    pairs: pd.DataFrame | None,
    committees: pd.DataFrame | None,
    profiles: Mapping[str, np.ndarray],
) -> _Universe:
    comm = str_col(items, "committee")
    bodies = str_col(items, "body")
    sgs = sorted(
        {c for c, b in zip(comm, bodies, strict=True) if b == ITU_BODY and itu_study_group(c)}
    )
    counterparts = {c for c, b in zip(comm, bodies, strict=True) if b in OTHER_BODIES}
    if committees is not None and not committees.empty and profiles:
        counterparts |= {
            canonical_committee(c)
            for c in str_col(committees, "committee")
            if body_of_committee(canonical_committee(c)) in OTHER_BODIES
        }
    sg_declared: dict[str, set[str]] = {}
    for c, d in zip(comm, parse_declared(items), strict=True):
        if itu_study_group(c):
            sg_declared.setdefault(c, set()).update(d.committees)
    groups: dict[tuple[str, str], pd.DataFrame] = {}
    if pairs is not None and not pairs.empty:
        pp = pairs[pairs["itu_committee"].map(lambda c: bool(itu_study_group(str(c))))]
        pp = pp.sort_values(
            ["score", "itu_uid", "other_uid"], ascending=[False, True, True], kind="mergesort"
        )
        for key, g in pp.groupby(["itu_committee", "other_committee"], sort=True):
            groups[(str(key[0]), str(key[1]))] = g
    keys = set(groups)
    if profiles:
        # Pairs of committees with no candidate pair still get a row when both have a profile.
        keys |= {(sg, c) for sg in sgs if sg in profiles for c in counterparts if c in profiles}
    return _Universe(sorted(keys), groups, itu_liaison_committees(committees), sg_declared)


def rank_committee_pairs(
    items: pd.DataFrame,
    pairs: pd.DataFrame,
    committees: pd.DataFrame | None = None,
    params: CommitteeParams | None = None,
    *,
    committee_vectors: np.ndarray | Mapping[str, np.ndarray] | None = None,
    item_vectors: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per ITU-T study group x ISO/IEC/ISO-IEC committee, sorted by ``rank``.

    Rows: every (study group, counterpart) with at least one candidate pair in ``pairs``, plus,
    when ``committee_vectors`` are given, every other combination of a study group and a
    counterpart committee that both have a profile (:func:`committee_profiles`), scored by
    scope similarity alone. Columns: :data:`~pipeline.contracts.COMMITTEE_COLUMNS`.
    """
    p = params or CommitteeParams()
    profiles = committee_profiles(items, item_vectors, committees, committee_vectors)
    u = _universe(items, pairs, committees, profiles)
    w_b, w_s = p.breadth_weight, p.scope_weight if profiles else 0.0
    m = max(1, p.top_m)
    rows = []
    for sg, cp in u.keys:
        g = u.groups.get((sg, cp))
        scores = g["score"].to_numpy(dtype=np.float64) if g is not None else np.zeros(0)
        strength = float(np.sort(scores)[::-1][:m].sum() / m)
        breadth = float(1 - math.exp(-scores.sum() / max(p.breadth_scale, 1e-6)))
        scope = 0.0
        if sg in profiles and cp in profiles:
            scope = float(max(0.0, np.dot(profiles[sg], profiles[cp])))
        span = max(p.scope_ceiling - p.scope_floor, 1e-6)
        scope_n = float(np.clip((scope - p.scope_floor) / span, 0, 1))
        score = (1 - w_b - w_s) * strength + w_b * breadth + w_s * scope_n
        cats = g["category"].value_counts() if g is not None else pd.Series(dtype=int)
        liaison = (
            cp in u.liaison_committees
            or bool(u.sg_declared.get(sg, set()) & {cp, parent_committee(cp)})
            or (
                g is not None
                and bool(g["declared_relation"].isin(["liaison", "relationship"]).any())
            )
        )
        rows.append(
            {
                "committee_pair_id": committee_pair_id(sg, cp),
                "itu_sg": sg,
                "counterpart": cp,
                "counterpart_body": body_of_committee(cp),
                "score": round(score, 6),
                "n_pairs": len(scores),
                "n_common_text": int(cats.get("common-text", 0)),
                "n_new_overlap": int(cats.get("new-overlap", 0)),
                "n_coordinated": int(cats.get("coordinated", 0)),
                "liaison_declared": bool(liaison),
                "strength": round(strength, 6),
                "breadth": round(breadth, 6),
                "scope_similarity": round(scope, 4),
                "questions": _questions(g),
                "top_pairs": _top_pairs(g),
                "reason": _committee_reason(g, liaison, scope),
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in COMMITTEE_COLUMNS if c != "rank"])
    out = out.sort_values(
        ["score", "itu_sg", "counterpart"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)
    out.insert(out.columns.get_loc("score") + 1, "rank", np.arange(1, len(out) + 1))
    return out[list(COMMITTEE_COLUMNS)]


def _questions(g: pd.DataFrame | None) -> str:
    if g is None or "itu_group" not in g:
        return ""
    counts = Counter(q for q in g["itu_group"].astype(str) if q)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "; ".join(f"{q} ({n})" for q, n in ordered)


def _top_pairs(g: pd.DataFrame | None, n: int = 3) -> str:
    if g is None:
        return ""
    out = []
    for row in g.head(n).itertuples(index=False):
        a = row.itu_reference or row.itu_uid
        b = row.other_reference or row.other_uid
        out.append(f"{a} ~ {b} ({row.score:.2f})")
    return "; ".join(out)


def _committee_reason(g: pd.DataFrame | None, liaison: bool, scope: float) -> str:
    if g is None:
        return f"scope similarity {scope:.2f}; no candidate pair"
    kp = Counter(
        k.strip() for s in g["shared_keyphrases"].astype(str) for k in s.split(";") if k.strip()
    )
    topics = ", ".join(k for k, _ in sorted(kp.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
    cats = g["category"].value_counts()
    parts = [f"{len(g)} candidate pairs"]
    if topics:
        parts.append(f"topics: {topics}")
    if cats.get("common-text", 0):
        parts.append(f"{cats['common-text']} common texts")
    if cats.get("new-overlap", 0):
        parts.append(f"{cats['new-overlap']} undeclared overlaps")
    parts.append("liaison declared" if liaison else "no liaison declared")
    return "; ".join(parts)
