"""Rank candidate pairs and committee pairs for Resolution 7 coordination.

Every candidate pair (one ITU-T item, one ISO/IEC/ISO-IEC item) gets explainable signals, each
its own column in 0..1:

- ``semantic``: embedding cosine (clipped at 0);
- ``lexical``: TF-IDF cosine over lemmas + keyphrases (a shared rare term counts);
- ``title``: TF-IDF cosine of the two titles alone (names the part of a multi-part series);
- ``explicit``: one side cites the other's standard (1.0) or names its committee (0.5);
- ``activity``: both sides still in development (1.0), one side (0.5), none (0);
- ``recency``: how recently the two sides changed (exponential decay, half-life in years);

and a Resolution 7 ``category``:

- ``common-text`` (resolve 8): a declared twin text (ITU-T ``equivalent:`` key == the other
  item's own key); ``revision_out_of_step`` when one side is being revised and the other is not;
- ``coordinated``: a liaison/relationship already declared between the two committees, or an
  explicit reference; listed, ranked lower (DESIGN.md);
- ``new-overlap`` (resolve 2/8): similar work with no declared relationship.

The score is ``similarity x priority x category factor (+ out-of-step bonus)`` where
``similarity`` mixes the text signals and ``priority`` rewards active, early and recent work.
Multiplying (not adding) keeps two unrelated but active items from outranking real overlaps.

Committee pairs (ITU-T study group x counterpart committee) are scored from all their pairs:
the mean of the top-m pair scores (a single strong pair cannot dominate many medium ones)
mixed with a saturating sum (breadth) and, when committee vectors are given, scope similarity.

Everything is deterministic: stable sorts with ties broken on uids; ``seed`` is accepted for
interface symmetry (no step here is random).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pipeline.committees import (
    CommitteeError,
    body_of_committee,
    itu_study_group,
    normalize_committee,
    parent_committee,
)
from pipeline.match import (
    ITU_BODY,
    OTHER_BODIES,
    MatchParams,
    cross_body_neighbours,
    lexical_matrix,
    lexical_neighbours,
    pair_cosine,
)
from pipeline.references import standard_keys
from pipeline.stages import EARLY_STAGE_GROUPS
from pipeline.utils.vectors import l2_normalise

__all__ = [
    "CANDIDATE_COLUMNS",
    "CATEGORIES",
    "COMMITTEE_COLUMNS",
    "RankParams",
    "candidate_pairs",
    "pair_id",
    "rank_candidate_pairs",
    "rank_committee_pairs",
]

CATEGORIES = ("common-text", "new-overlap", "coordinated")

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "pair_id",
    "itu_uid",
    "other_uid",
    "other_body",
    "itu_committee",
    "itu_group",
    "other_committee",
    "other_group",
    "itu_reference",
    "other_reference",
    "itu_title",
    "other_title",
    "itu_stage_group",
    "other_stage_group",
    "itu_url",
    "other_url",
    "semantic",
    "lexical",
    "title",
    "explicit",
    "activity",
    "recency",
    "similarity",
    "shared_keyphrases",
    "evidence",
    "declared_relation",
    "revision_out_of_step",
    "score",
    "rank",
    "category",
    "reason",
    "area",
)

COMMITTEE_COLUMNS: tuple[str, ...] = (
    "committee_pair_id",
    "itu_sg",
    "counterpart",
    "counterpart_body",
    "score",
    "rank",
    "n_pairs",
    "n_common_text",
    "n_new_overlap",
    "n_coordinated",
    "liaison_declared",
    "strength",
    "breadth",
    "scope_similarity",
    "questions",
    "top_pairs",
    "reason",
)


@dataclass(frozen=True)
class RankParams:
    """Scoring of candidate and committee pairs (``[rank]`` in default_config.toml).

    Pair similarity (0..1) = ``w_semantic * semantic_n + w_lexical * lexical_n + w_title *
    title + w_explicit * explicit``, clipped, where ``semantic_n`` maps the cosine
    ``semantic_floor..semantic_ceiling`` to 0..1, ``lexical_n`` maps ``0..lexical_ceiling`` to
    0..1 and ``title`` is the TF-IDF cosine of the two titles alone (a title names the part of a
    multi-part series precisely; abstracts of sibling parts read alike).

    - ``w_semantic`` (0.4), ``w_lexical`` (0.2), ``w_title`` (0.4): text similarity mix.
    - ``w_explicit`` (0.3): added for an explicit reference (1.0) or committee mention (0.5).
    - ``semantic_floor`` (0.3), ``semantic_ceiling`` (1.0): MiniLM cosines below 0.3 are noise;
      no saturation at the top, so near-identical texts still differ.
    - ``lexical_ceiling`` (1.0): TF-IDF cosine that counts as a full match.

    Priority multiplier = ``(1 + w_activity*activity + w_recency*recency + early_stage_bonus*
    early) / (1 + w_activity + w_recency + early_stage_bonus)``, in (0, 1]:

    - ``w_activity`` (0.3): both sides in development matter most (resolve 2: act early).
    - ``w_recency`` (0.1), ``recency_half_life_years`` (5.0); ``reference_date`` ("" = the
      latest ``updated`` date in the items, so a re-run on the same data gives the same score).
    - ``early_stage_bonus`` (0.2): either side at proposal/preparatory/committee/under study.

    Category:

    - ``coordinated_factor`` (0.6): coordinated pairs are listed but ranked lower.
    - ``common_text_factor`` (1.0); ``out_of_step_bonus`` (0.2) added to a common text whose
      sides are out of step (one being revised, the other not).
    - ``hide_declared`` (False): ignore declared relations and explicit references (text
      signals only; used to evaluate matching and to look for undeclared overlaps).

    Filtering: a candidate is kept when ``semantic >= MatchParams.min_semantic`` or ``lexical >=
    MatchParams.min_lexical`` or it has explicit/declared evidence; ``max_pairs_per_itu`` (0 =
    no limit) keeps the best pairs per ITU-T item.

    Committee pairs: ``committee_top_m`` (10) best pair scores are averaged (zeros pad a
    committee pair with fewer pairs) = ``strength``; ``breadth`` = ``1 - exp(-sum of pair
    scores / committee_breadth_scale)`` (scale 5.0); score = ``(1 - committee_breadth_weight -
    committee_scope_weight) * strength + committee_breadth_weight * breadth +
    committee_scope_weight * scope`` with weights 0.6 and 0.1 (scope is 0 when no committee
    vectors are given). ``n_shared_keyphrases`` (5) keyphrases shown per pair.
    """

    w_semantic: float = 0.4
    w_lexical: float = 0.2
    w_title: float = 0.4
    w_explicit: float = 0.3
    semantic_floor: float = 0.3
    semantic_ceiling: float = 1.0
    lexical_ceiling: float = 1.0
    w_activity: float = 0.3
    w_recency: float = 0.1
    recency_half_life_years: float = 5.0
    reference_date: str = ""
    early_stage_bonus: float = 0.2
    coordinated_factor: float = 0.6
    common_text_factor: float = 1.0
    out_of_step_bonus: float = 0.2
    hide_declared: bool = False
    max_pairs_per_itu: int = 0
    committee_top_m: int = 10
    committee_breadth_scale: float = 5.0
    committee_breadth_weight: float = 0.6
    committee_scope_weight: float = 0.1
    n_shared_keyphrases: int = 5


# --------------------------------------------------------------------------------------------
# helpers


def pair_id(itu_uid: str, other_uid: str) -> str:
    """Stable pair id: ``"P-" + sha1(itu_uid + "|" + other_uid)[:10]``."""
    return "P-" + hashlib.sha1(f"{itu_uid}|{other_uid}".encode()).hexdigest()[:10]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()] if value else []
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def _list_col(items: pd.DataFrame, name: str) -> list[list[str]]:
    if name not in items.columns:
        return [[] for _ in range(len(items))]
    return [_as_list(v) for v in items[name].tolist()]


def _str_col(items: pd.DataFrame, name: str) -> np.ndarray:
    if name not in items.columns:
        return np.array([""] * len(items), dtype=object)
    return items[name].fillna("").astype(str).to_numpy(dtype=object)


def _canonical(raw: str, hint: str | None = None) -> str:
    try:
        return normalize_committee(raw, hint)
    except CommitteeError:
        return raw.strip()


def _own_keys(items: pd.DataFrame) -> list[set[str]]:
    if "own_keys" in items.columns:
        return [set(v) for v in _list_col(items, "own_keys")]
    refs, bodies = _str_col(items, "reference"), _str_col(items, "body")
    return [set(standard_keys(r, b)) for r, b in zip(refs, bodies, strict=True)]


def _year_fraction(date: str) -> float:
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", date or "")
    if not m:
        return math.nan
    y, mo, d = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        day = dt.date(y, mo, d).timetuple().tm_yday
    except ValueError:
        day = 1
    return y + (day - 1) / 365.25


@dataclass
class _Declared:
    """Declared relations of one item, parsed once."""

    equivalent: set[str]
    committees: set[str]  # liaison:/relationship: targets, canonical


def _parse_declared(items: pd.DataFrame) -> list[_Declared]:
    out = []
    for values in _list_col(items, "declared"):
        eq: set[str] = set()
        com: set[str] = set()
        for v in values:
            rel, _, target = v.partition(":")
            rel, target = rel.strip().lower(), target.strip()
            if not target:
                continue
            if rel == "equivalent":
                eq.update(standard_keys(target) or standard_keys(target, ITU_BODY) or [target])
            elif rel in {"liaison", "relationship"}:
                com.add(_canonical(target))
        out.append(_Declared(eq, com))
    return out


def _itu_liaison_committees(committees: pd.DataFrame | None) -> set[str]:
    """Canonical committees whose own record declares ITU as a liaison organisation."""
    if committees is None or committees.empty or "declared" not in committees.columns:
        return set()
    found = set()
    names = _str_col(committees, "committee")
    for name, declared in zip(names, _list_col(committees, "declared"), strict=True):
        for v in declared:
            rel, _, target = v.partition(":")
            if rel.strip().lower() == "liaison" and target.strip().upper().startswith("ITU"):
                found.add(_canonical(name))
    return found


# --------------------------------------------------------------------------------------------
# candidates


def candidate_pairs(
    items: pd.DataFrame,
    vectors: np.ndarray,
    match_params: MatchParams | None = None,
    *,
    lexical: sp.spmatrix | None = None,
    include_declared: bool = True,
) -> pd.DataFrame:
    """Union of semantic, lexical and (unless hidden) declared/explicit candidates.

    Returns ``itu_index``, ``other_index`` (row positions in ``items``), sorted; every pair has
    one ITU-T side and one ISO/IEC/ISO-IEC side. ``lexical`` is a precomputed TF-IDF matrix
    (:func:`pipeline.match.lexical_matrix`), built here when ``None``.
    """
    mp = match_params or MatchParams()
    bodies = _str_col(items, "body").tolist()
    frames = [
        cross_body_neighbours(vectors, bodies, mp.top_k, mp.block_size)[
            ["itu_index", "other_index"]
        ]
    ]
    if mp.lexical_top_k > 0:
        lex = lexical if lexical is not None else lexical_matrix(items, mp)
        if lex.shape[1] > 0:
            frames.append(
                lexical_neighbours(lex, bodies, mp.lexical_top_k, mp.block_size)[
                    ["itu_index", "other_index"]
                ]
            )
    if include_declared:
        frames.append(_evidence_candidates(items))
    out = pd.concat(frames, ignore_index=True).astype(np.int64)
    out = out.drop_duplicates().sort_values(["itu_index", "other_index"], kind="mergesort")
    return out.reset_index(drop=True)


def _evidence_candidates(items: pd.DataFrame) -> pd.DataFrame:
    """Pairs joined by a declared equivalent or a cited standard key, whatever their text."""
    bodies = _str_col(items, "body")
    own = _own_keys(items)
    declared = _parse_declared(items)
    refs = _list_col(items, "ref_standards")
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(own):
        for key in keys:
            by_key[key].append(i)
    rows: list[tuple[int, int]] = []
    for i, body in enumerate(bodies):
        wanted = set(refs[i]) | declared[i].equivalent
        for key in wanted:
            for j in by_key.get(key, ()):
                if body == ITU_BODY and bodies[j] in OTHER_BODIES:
                    rows.append((i, j))
                elif body in OTHER_BODIES and bodies[j] == ITU_BODY:
                    rows.append((j, i))
    return pd.DataFrame(rows, columns=["itu_index", "other_index"], dtype=np.int64)


# --------------------------------------------------------------------------------------------
# pair scoring


def _stage_phrase(body: str, active: bool, stage_group: str) -> str:
    return f"{body} {'in development' if active else 'published'}" + (
        f" ({stage_group})" if active and stage_group else ""
    )


def _activity_phrase(
    other_body: str, a_itu: bool, a_other: bool, sg_itu: str, sg_other: str
) -> str:
    if a_itu and a_other:
        return "both in development"
    if not a_itu and not a_other:
        return "both published"
    return (
        f"{_stage_phrase('ITU-T', a_itu, sg_itu)}, {_stage_phrase(other_body, a_other, sg_other)}"
    )


def rank_candidate_pairs(
    items: pd.DataFrame,
    vectors: np.ndarray,
    params: RankParams | None = None,
    *,
    committees: pd.DataFrame | None = None,
    seed: int = 0,
    candidates: pd.DataFrame | None = None,
    match_params: MatchParams | None = None,
    lexical: sp.spmatrix | None = None,
) -> pd.DataFrame:
    """Score, categorise and rank candidate pairs.

    ``items``: enriched items (n rows; enrich columns optional, see module doc). ``vectors``:
    (n, d) float32 L2-normalised, row i = item i. ``candidates``: precomputed
    ``itu_index``/``other_index`` pairs (e.g. from a cached run); generated with
    :func:`candidate_pairs` when ``None``. ``committees``: committee records (for ISO
    committees that declare ITU as a liaison). ``lexical``: precomputed TF-IDF matrix.

    Returns one row per pair with :data:`CANDIDATE_COLUMNS`, sorted by ``rank`` (1 = first;
    ties broken by ``itu_uid`` then ``other_uid``). ``area`` is -1 (run.py fills it).
    """
    del seed  # deterministic: nothing random here
    p = params or RankParams()
    mp = match_params or MatchParams()
    items = items.reset_index(drop=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(items):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(items)} items")
    lex = lexical if lexical is not None else lexical_matrix(items, mp)
    if candidates is None:
        candidates = candidate_pairs(
            items, vectors, mp, lexical=lex, include_declared=not p.hide_declared
        )
    bodies = _str_col(items, "body")
    cand = candidates[["itu_index", "other_index"]].astype(np.int64)
    ok = (bodies[cand["itu_index"].to_numpy()] == ITU_BODY) & np.isin(
        bodies[cand["other_index"].to_numpy()], list(OTHER_BODIES)
    )
    cand = cand[ok].drop_duplicates().reset_index(drop=True)
    if cand.empty:
        return pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
    ii = cand["itu_index"].to_numpy()
    oo = cand["other_index"].to_numpy()

    semantic = np.clip(pair_cosine(vectors, ii, oo), 0.0, 1.0)
    lexical_sig = (
        np.clip(pair_cosine(lex, ii, oo), 0.0, 1.0)
        if lex.shape[1] > 0
        else np.zeros(len(ii), dtype=np.float32)
    )

    # Explicit and declared evidence, per pair (python loop: sets are small).
    own = _own_keys(items)
    refs = _list_col(items, "ref_standards")
    ref_com = [set(v) for v in _list_col(items, "ref_committees")]
    declared = _parse_declared(items)
    iso_liaison = _itu_liaison_committees(committees)
    committee = _str_col(items, "committee")
    group = _str_col(items, "group")
    reference = _str_col(items, "reference")
    uid = _str_col(items, "uid")

    n = len(ii)
    explicit = np.zeros(n, dtype=np.float32)
    evidence = [""] * n
    relation = [""] * n
    for r, (i, j) in enumerate(zip(ii.tolist(), oo.tolist(), strict=True)):
        ev: list[str] = []
        other_units = {committee[j], parent_committee(committee[j])}
        rel = ""
        if not p.hide_declared:
            eq = (declared[i].equivalent & own[j]) | (declared[j].equivalent & own[i])
            if eq:
                rel = "equivalent"
                ev.append("declared equivalent " + ", ".join(sorted(eq)))
            else:
                named = declared[i].committees & other_units
                named |= declared[j].committees & {committee[i], group[i]}
                if named:
                    rel = _declared_kind(items, i, j, named)
                    ev.append(f"{rel} declared: " + ", ".join(sorted(named)))
                elif committee[j] in iso_liaison:
                    # Only the committee's own liaison list counts: JTC 1's liaison with ITU
                    # does not make every SC 27 or SC 29 topic coordinated.
                    rel = "liaison"
                    ev.append(f"{committee[j]} has ITU as liaison organisation")
            cites = (set(refs[i]) & own[j]) | (set(refs[j]) & own[i])
            if cites:
                explicit[r] = 1.0
                a = sorted(set(refs[i]) & own[j])
                b = sorted(set(refs[j]) & own[i])
                if a:
                    ev.append(f"{reference[i] or uid[i]} cites {', '.join(a)}")
                if b:
                    ev.append(f"{reference[j] or uid[j]} cites {', '.join(b)}")
            else:
                named_c = (ref_com[i] & other_units) | (ref_com[j] & {committee[i], group[i]})
                if named_c:
                    explicit[r] = 0.5
                    ev.append("mentions " + ", ".join(sorted(named_c)))
        evidence[r] = "; ".join(ev)
        relation[r] = rel

    active = (
        items["active"].fillna(False).astype(bool).to_numpy()
        if "active" in items
        else (np.zeros(len(items), dtype=bool))
    )
    stage_group = _str_col(items, "stage_group")
    a_i, a_o = active[ii], active[oo]
    activity = (a_i.astype(np.float32) + a_o.astype(np.float32)) / 2.0
    early_set = list(EARLY_STAGE_GROUPS)
    early = (
        (np.isin(stage_group[ii], early_set) & a_i) | (np.isin(stage_group[oo], early_set) & a_o)
    ).astype(np.float32)
    recency = _recency(items, ii, oo, p)

    title_sig = _title_similarity(items, ii, oo) if p.w_title > 0 else np.zeros(n, np.float32)
    sem_n = np.clip(
        (semantic - p.semantic_floor) / max(p.semantic_ceiling - p.semantic_floor, 1e-6), 0, 1
    )
    lex_n = np.clip(lexical_sig / max(p.lexical_ceiling, 1e-6), 0, 1)
    similarity = np.clip(
        p.w_semantic * sem_n
        + p.w_lexical * lex_n
        + p.w_title * title_sig
        + p.w_explicit * explicit,
        0.0,
        1.0,
    )
    priority = (
        1 + p.w_activity * activity + p.w_recency * recency + p.early_stage_bonus * early
    ) / (1 + p.w_activity + p.w_recency + p.early_stage_bonus)
    rel_arr = np.array(relation, dtype=object)
    category = np.where(
        rel_arr == "equivalent",
        "common-text",
        np.where((rel_arr != "") | (explicit > 0), "coordinated", "new-overlap"),
    )
    out_of_step = (category == "common-text") & (a_i != a_o)
    factor = np.where(
        category == "common-text",
        p.common_text_factor,
        np.where(category == "coordinated", p.coordinated_factor, 1.0),
    )
    score = similarity * priority * factor + p.out_of_step_bonus * out_of_step

    keep = (
        (semantic >= mp.min_semantic)
        | (lexical_sig >= mp.min_lexical)
        | (explicit > 0)
        | (rel_arr != "")
    )
    idx = np.flatnonzero(keep)

    kp = _list_col(items, "keyphrases")
    kp_df = Counter(k.lower() for phrases in kp for k in set(x.lower() for x in phrases))
    shared = [_shared_keyphrases(kp[ii[r]], kp[oo[r]], kp_df, p.n_shared_keyphrases) for r in idx]
    other_body = bodies[oo[idx]]
    reasons = [
        _reason(
            shared[t],
            float(semantic[r]),
            str(other_body[t]),
            bool(a_i[r]),
            bool(a_o[r]),
            str(stage_group[ii[r]]),
            str(stage_group[oo[r]]),
            str(category[r]),
            bool(out_of_step[r]),
            evidence[r],
        )
        for t, r in enumerate(idx)
    ]
    frame = pd.DataFrame(
        {
            "itu_uid": uid[ii[idx]],
            "other_uid": uid[oo[idx]],
            "other_body": other_body,
            "itu_committee": committee[ii[idx]],
            "itu_group": group[ii[idx]],
            "other_committee": committee[oo[idx]],
            "other_group": group[oo[idx]],
            "itu_reference": reference[ii[idx]],
            "other_reference": reference[oo[idx]],
            "itu_title": _str_col(items, "title")[ii[idx]],
            "other_title": _str_col(items, "title")[oo[idx]],
            "itu_stage_group": stage_group[ii[idx]],
            "other_stage_group": stage_group[oo[idx]],
            "itu_url": _str_col(items, "url")[ii[idx]],
            "other_url": _str_col(items, "url")[oo[idx]],
            "semantic": np.round(semantic[idx].astype(np.float64), 4),
            "lexical": np.round(lexical_sig[idx].astype(np.float64), 4),
            "title": np.round(title_sig[idx].astype(np.float64), 4),
            "explicit": explicit[idx].astype(np.float64),
            "activity": activity[idx].astype(np.float64),
            "recency": np.round(recency[idx].astype(np.float64), 4),
            "similarity": np.round(similarity[idx].astype(np.float64), 4),
            "shared_keyphrases": ["; ".join(s) for s in shared],
            "evidence": [evidence[r] for r in idx],
            "declared_relation": rel_arr[idx],
            "revision_out_of_step": out_of_step[idx],
            "score": np.round(score[idx].astype(np.float64), 6),
            "category": category[idx],
            "reason": reasons,
            "area": -1,
        }
    )
    frame = frame.sort_values(
        ["score", "itu_uid", "other_uid"], ascending=[False, True, True], kind="mergesort"
    )
    if p.max_pairs_per_itu > 0:
        frame = frame.groupby("itu_uid", sort=False).head(p.max_pairs_per_itu)
    frame = frame.reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame["pair_id"] = [
        pair_id(a, b) for a, b in zip(frame["itu_uid"], frame["other_uid"], strict=True)
    ]
    return frame[list(CANDIDATE_COLUMNS)]


def _title_similarity(items: pd.DataFrame, ii: np.ndarray, oo: np.ndarray) -> np.ndarray:
    """TF-IDF cosine (words and bigrams, tokens starting with a letter) of the two titles."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    titles = _str_col(items, "title").tolist()
    try:
        m = TfidfVectorizer(
            token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b",
            ngram_range=(1, 2),
            sublinear_tf=True,
            dtype=np.float32,
        ).fit_transform(titles)
    except ValueError:  # no word in any title
        return np.zeros(len(ii), dtype=np.float32)
    return np.clip(pair_cosine(m, ii, oo), 0.0, 1.0)


def _declared_kind(items: pd.DataFrame, i: int, j: int, named: set[str]) -> str:
    """``liaison`` or ``relationship``, whichever declared entry named the committee."""
    for idx in (i, j):
        for v in _as_list(items.at[idx, "declared"]) if "declared" in items.columns else []:
            rel, _, target = v.partition(":")
            if _canonical(target.strip()) in named and rel.strip().lower() in {
                "liaison",
                "relationship",
            }:
                return rel.strip().lower()
    return "liaison"


def _recency(items: pd.DataFrame, ii: np.ndarray, oo: np.ndarray, p: RankParams) -> np.ndarray:
    """Mean of both sides' ``0.5 ** (age / half_life)``; an undated side counts 0."""
    years = np.array([_year_fraction(d) for d in _str_col(items, "updated")], dtype=np.float64)
    ref = (
        _year_fraction(p.reference_date)
        if p.reference_date
        else np.nanmax(np.append(years, -np.inf))
    )
    if not np.isfinite(ref):
        return np.zeros(len(ii), dtype=np.float32)
    age = np.clip(ref - years, 0, None)
    item_rec = np.where(np.isnan(years), 0.0, 0.5 ** (age / max(p.recency_half_life_years, 1e-6)))
    return ((item_rec[ii] + item_rec[oo]) / 2).astype(np.float32)


def _shared_keyphrases(
    a: Sequence[str], b: Sequence[str], df: Mapping[str, int], n: int
) -> list[str]:
    """Keyphrases both items have, rarest (most distinctive) first."""
    if not a or not b:
        return []
    lb = {x.lower() for x in b}
    seen: dict[str, str] = {}
    for x in a:
        low = x.lower()
        if low in lb and low not in seen:
            seen[low] = x
    ordered = sorted(seen, key=lambda k: (df.get(k, 0), -len(k), k))
    return [seen[k] for k in ordered[:n]]


def _reason(
    shared: list[str],
    semantic: float,
    other_body: str,
    a_itu: bool,
    a_other: bool,
    sg_itu: str,
    sg_other: str,
    category: str,
    out_of_step: bool,
    evidence: str,
) -> str:
    topic = (
        f"same topic: {', '.join(shared[:3])}"
        if shared
        else f"similar text (cosine {semantic:.2f})"
    )
    parts = [topic, _activity_phrase(other_body, a_itu, a_other, sg_itu, sg_other)]
    if category == "common-text":
        parts.append("declared common text")
        if out_of_step:
            side = "ITU-T" if a_itu else other_body
            parts.append(f"only the {side} side is being revised: realign")
    elif category == "coordinated":
        parts.append(evidence.split("; ")[0] if evidence else "already coordinated")
    else:
        parts.append("no liaison declared")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# committee pairs


def _profile_vectors(
    items: pd.DataFrame,
    item_vectors: np.ndarray | None,
    committees: pd.DataFrame | None,
    committee_vectors: np.ndarray | Mapping[str, np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """Committee -> unit vector: its scope record's vector when given, else (for committees
    without a scope record, e.g. ITU-T study groups) the mean of its items' vectors."""
    out: dict[str, np.ndarray] = {}
    if committee_vectors is None:
        return out
    if isinstance(committee_vectors, Mapping):
        for name, vec in committee_vectors.items():
            out[_canonical(str(name))] = np.asarray(vec, dtype=np.float32)
    elif committees is not None and len(committees) == len(committee_vectors):
        names = _str_col(committees.reset_index(drop=True), "committee")
        cv = l2_normalise(np.asarray(committee_vectors, dtype=np.float32))
        for name, vec in zip(names, cv, strict=True):
            out.setdefault(_canonical(name), vec)
    if item_vectors is not None and len(item_vectors) == len(items):
        comm = _str_col(items, "committee")
        for name in sorted(set(comm) - set(out)):
            rows = np.flatnonzero(comm == name)
            out[name] = l2_normalise(item_vectors[rows].mean(axis=0, keepdims=True))[0]
    return out


def rank_committee_pairs(
    items: pd.DataFrame,
    pairs: pd.DataFrame,
    committees: pd.DataFrame | None = None,
    params: RankParams | None = None,
    *,
    committee_vectors: np.ndarray | Mapping[str, np.ndarray] | None = None,
    item_vectors: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per ITU-T study group x ISO/IEC/ISO-IEC committee, sorted by ``rank``.

    Rows: every study group present in ``items`` x every counterpart committee present in
    ``items`` (and ``committees``) with at least one candidate pair, plus, when
    ``committee_vectors`` are given, every other combination (scored by scope similarity
    alone). ``committee_vectors``: (len(committees), d) aligned with ``committees`` rows, or a
    mapping committee -> vector; study groups without a scope record use the mean of their
    items' ``item_vectors``. Columns: :data:`COMMITTEE_COLUMNS`.
    """
    p = params or RankParams()
    profiles = _profile_vectors(items, item_vectors, committees, committee_vectors)
    comm = _str_col(items, "committee")
    bodies = _str_col(items, "body")
    sgs = sorted(
        {c for c, b in zip(comm, bodies, strict=True) if b == ITU_BODY and itu_study_group(c)}
    )
    counterparts = {c for c, b in zip(comm, bodies, strict=True) if b in OTHER_BODIES}
    if committees is not None and not committees.empty and profiles:
        counterparts |= {
            _canonical(c)
            for c in _str_col(committees, "committee")
            if body_of_committee(_canonical(c)) in OTHER_BODIES
        }
    liaison_com = _itu_liaison_committees(committees)
    sg_declared: dict[str, set[str]] = defaultdict(set)
    for c, d in zip(comm, _parse_declared(items), strict=True):
        if itu_study_group(c):
            sg_declared[c] |= d.committees

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
    rows = []
    m = max(1, p.committee_top_m)
    for sg, cp in sorted(keys):
        g = groups.get((sg, cp))
        scores = g["score"].to_numpy(dtype=np.float64) if g is not None else np.zeros(0)
        top = np.sort(scores)[::-1][:m]
        strength = float(top.sum() / m)
        breadth = float(1 - math.exp(-scores.sum() / max(p.committee_breadth_scale, 1e-6)))
        scope = 0.0
        if sg in profiles and cp in profiles:
            scope = float(max(0.0, np.dot(profiles[sg], profiles[cp])))
        scope_n = float(
            np.clip(
                (scope - p.semantic_floor) / max(p.semantic_ceiling - p.semantic_floor, 1e-6),
                0,
                1,
            )
        )
        w_b, w_s = p.committee_breadth_weight, p.committee_scope_weight if profiles else 0.0
        score = (1 - w_b - w_s) * strength + w_b * breadth + w_s * scope_n
        cats = g["category"].value_counts() if g is not None else pd.Series(dtype=int)
        liaison = (
            cp in liaison_com
            or bool(sg_declared[sg] & {cp, parent_committee(cp)})
            or (
                g is not None
                and bool(g["declared_relation"].isin(["liaison", "relationship"]).any())
            )
        )
        rows.append(
            {
                "committee_pair_id": f"C-{sg}|{cp}",
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
