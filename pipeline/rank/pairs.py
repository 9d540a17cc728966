"""Rank candidate pairs: signals -> category -> score -> reason, one row per pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pipeline.contracts import CANDIDATE_COLUMNS, ITU_BODY, OTHER_BODIES, pair_id
from pipeline.match import MatchParams, lexical_matrix
from pipeline.rank.evidence import PairEvidence, pair_evidence
from pipeline.rank.explain import (
    keyphrase_document_frequency,
    lowercase_index,
    pair_reason,
    shared_keyphrases,
)
from pipeline.rank.families import declares_common_text, family_common_text
from pipeline.rank.params import RankParams
from pipeline.rank.score import categorise, priority, score_pairs, text_similarity
from pipeline.rank.signals import (
    activity_signals,
    lexical_similarity,
    local_semantic,
    recency,
    semantic_similarity,
    title_similarity,
)
from pipeline.utils.frames import list_col, str_col

__all__ = ["rank_candidate_pairs"]


def _valid_pairs(items: pd.DataFrame, candidates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(ii, oo)``: the candidates with an ITU-T left side and an ISO/IEC right side, once."""
    bodies = str_col(items, "body")
    cand = candidates[["itu_index", "other_index"]].astype(np.int64)
    ok = (bodies[cand["itu_index"].to_numpy()] == ITU_BODY) & np.isin(
        bodies[cand["other_index"].to_numpy()], list(OTHER_BODIES)
    )
    cand = cand[ok].drop_duplicates().reset_index(drop=True)
    return cand["itu_index"].to_numpy(), cand["other_index"].to_numpy()


def _no_evidence(m: int) -> PairEvidence:
    return PairEvidence(
        explicit=np.zeros(m, dtype=np.float32),
        relation=np.full(m, "", dtype=object),
        evidence=np.full(m, "", dtype=object),
    )


def _kept(
    semantic: np.ndarray, lexical: np.ndarray, ev: PairEvidence, mp: MatchParams
) -> np.ndarray:
    """(m,) bool: similar enough by text, or with explicit/declared evidence."""
    return (
        (semantic >= mp.min_semantic)
        | (lexical >= mp.min_lexical)
        | (ev.explicit > 0)
        | (ev.relation != "")
    )


def _categories(
    items: pd.DataFrame,
    ii: np.ndarray,
    oo: np.ndarray,
    ev: PairEvidence,
    title: np.ndarray,
    active: tuple[np.ndarray, np.ndarray],
    p: RankParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(category, out_of_step, evidence)`` (m,) each: declared evidence plus the common texts
    the data declares only indirectly."""
    self_declared, family = _indirect_common_texts(items, ii, oo, title, p)
    category, out_of_step = categorise(
        ev.relation,
        ev.explicit,
        *active,
        channel_only=ev.channel_only,
        self_declared=self_declared,
        family_common=family,
    )
    return category, out_of_step, _with_indirect(ev.evidence, self_declared, family)


def _indirect_common_texts(
    items: pd.DataFrame, ii: np.ndarray, oo: np.ndarray, title: np.ndarray, p: RankParams
) -> tuple[np.ndarray, np.ndarray]:
    """``(self_declared, family_common)`` (m,) bool: common texts the data declares only
    indirectly (:mod:`pipeline.rank.families`); both False when declared evidence is hidden."""
    m = len(ii)
    if p.hide_declared:
        return np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
    says = declares_common_text(str_col(items, "text"))
    joint = str_col(items, "body")[oo] == "ISO/IEC"
    self_declared = (says[ii] | says[oo]) & joint & (title >= p.common_text_min_title)
    return self_declared, family_common_text(items, ii, oo)


def _with_indirect(
    evidence: np.ndarray, self_declared: np.ndarray, family: np.ndarray
) -> np.ndarray:
    """The evidence text plus what made a pair an indirect common text."""
    out = evidence.copy()
    notes = (
        (self_declared, "the text calls itself a Recommendation | International Standard"),
        (family, "another part/edition of this number family is a declared common text"),
    )
    for mask, note in notes:
        for r in np.flatnonzero(mask):
            out[r] = f"{out[r]}; {note}" if out[r] else note
    return out


def _side_columns(items: pd.DataFrame, ii: np.ndarray, oo: np.ndarray) -> dict[str, np.ndarray]:
    """The descriptive columns of both sides (``itu_*``, ``other_*``) for pairs (ii, oo)."""
    out: dict[str, np.ndarray] = {
        "itu_uid": str_col(items, "uid")[ii],
        "other_uid": str_col(items, "uid")[oo],
        "other_body": str_col(items, "body")[oo],
    }
    for name in ("committee", "group", "reference", "title", "stage_group", "url"):
        values = str_col(items, name)
        out[f"itu_{name}"] = values[ii]
        out[f"other_{name}"] = values[oo]
    return out


def rank_candidate_pairs(
    items: pd.DataFrame,
    vectors: np.ndarray,
    candidates: pd.DataFrame,
    params: RankParams | None = None,
    *,
    committees: pd.DataFrame | None = None,
    match_params: MatchParams | None = None,
    lexical: sp.spmatrix | None = None,
    hubness: np.ndarray | None = None,
) -> pd.DataFrame:
    """Score, categorise and rank candidate pairs.

    ``items``: enriched items (n rows; enrich columns optional). ``vectors``: (n, d) float32
    L2-normalised, row i = item i. ``candidates``: ``itu_index``/``other_index`` pairs from
    the match stage (:func:`pipeline.match.match_candidates`). ``committees``: committee
    records (ISO committees that declare ITU as a liaison). ``lexical``: the match stage's
    TF-IDF matrix (rebuilt from ``items`` when ``None``). ``hubness``: (n,) per-item hubness
    from match (``None``: no hub correction). ``match_params`` gives the floors
    below which a pair with no evidence is dropped.

    Returns one row per pair with :data:`~pipeline.contracts.CANDIDATE_COLUMNS`, sorted by
    ``rank`` (1 = first; ties broken by ``itu_uid`` then ``other_uid``); ``area`` is -1,
    ``overlap_id`` is ``""`` and ``flagged`` False until the overlaps stage fills them.
    """
    p = params or RankParams()
    mp = match_params or MatchParams()
    items = items.reset_index(drop=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(items):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(items)} items")
    ii, oo = _valid_pairs(items, candidates)
    if len(ii) == 0:
        return pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
    lex = lexical if lexical is not None else lexical_matrix(items, mp)

    semantic = semantic_similarity(vectors, ii, oo)
    local = local_semantic(semantic, hubness, ii, oo, p.hub_correction)
    lexical_sig = lexical_similarity(lex, ii, oo)
    title_sig = title_similarity(items, ii, oo) if p.w_title > 0 else np.zeros(len(ii), np.float32)
    ev = _no_evidence(len(ii)) if p.hide_declared else pair_evidence(items, ii, oo, committees)
    a_i, a_o, activity, early = activity_signals(items, ii, oo)
    rec = recency(items, ii, oo, p.recency_half_life_years, p.reference_date)

    similarity = text_similarity(local, lexical_sig, title_sig, ev.explicit, p)
    category, out_of_step, evidence = _categories(items, ii, oo, ev, title_sig, (a_i, a_o), p)
    score = score_pairs(similarity, priority(activity, rec, early, p), category, out_of_step, p)

    idx = np.flatnonzero(_kept(semantic, lexical_sig, ev, mp))
    frame = pd.DataFrame(_side_columns(items, ii[idx], oo[idx]))
    frame = frame.assign(
        semantic=np.round(semantic[idx].astype(np.float64), 4),
        semantic_local=np.round(local[idx].astype(np.float64), 4),
        lexical=np.round(lexical_sig[idx].astype(np.float64), 4),
        title=np.round(title_sig[idx].astype(np.float64), 4),
        explicit=ev.explicit[idx].astype(np.float64),
        activity=activity[idx].astype(np.float64),
        recency=np.round(rec[idx].astype(np.float64), 4),
        similarity=np.round(similarity[idx].astype(np.float64), 4),
        evidence=evidence[idx],
        declared_relation=ev.relation[idx],
        revision_out_of_step=out_of_step[idx],
        score=np.round(score[idx].astype(np.float64), 6),
        category=category[idx],
        area=-1,
        overlap_id="",  # the overlaps stage groups and flags (pipeline.rank.overlaps)
        flagged=False,
    )
    frame = _explain(frame, items, ii[idx], oo[idx], semantic[idx], (a_i[idx], a_o[idx]), p)
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


def _explain(
    frame: pd.DataFrame,
    items: pd.DataFrame,
    ii: np.ndarray,
    oo: np.ndarray,
    semantic: np.ndarray,
    active: tuple[np.ndarray, np.ndarray],
    params: RankParams,
) -> pd.DataFrame:
    """Add ``shared_keyphrases`` and ``reason`` to the kept pairs (rows aligned with ii, oo)."""
    kp = list_col(items, "keyphrases")
    df = keyphrase_document_frequency(kp)
    index = {i: lowercase_index(kp[i]) for i in {*ii.tolist(), *oo.tolist()}}
    shared = [
        shared_keyphrases(index[i], index[j], df, params.n_shared_keyphrases)
        for i, j in zip(ii.tolist(), oo.tolist(), strict=True)
    ]
    # Only the columns the reason reads, as lists: itertuples over all ~40 columns (Arrow
    # strings) took half of the rank stage on the corpus.
    cols = ("other_body", "itu_stage_group", "other_stage_group", "category",
            "revision_out_of_step", "evidence")  # fmt: skip
    body, itu_stage, other_stage, category, out_of_step, evidence = (
        frame[c].tolist() for c in cols
    )
    reasons = [
        pair_reason(
            shared[t],
            float(semantic[t]),
            body[t],
            (bool(active[0][t]), bool(active[1][t])),
            (itu_stage[t], other_stage[t]),
            category[t],
            bool(out_of_step[t]),
            evidence[t],
        )
        for t in range(len(frame))
    ]
    return frame.assign(shared_keyphrases=["; ".join(s) for s in shared], reason=reasons)
