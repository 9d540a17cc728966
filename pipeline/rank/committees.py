"""Rank committee pairs: ITU-T study group x ISO/IEC/ISO-IEC committee, from their item pairs.

Every study group x counterpart committee gets the features of
:mod:`pipeline.rank.committee_features` (strength, breadth, specificity, coverage, scope
similarity both ways, keyphrase similarity); the versioned linear model of
:mod:`pipeline.rank.committee_model` combines them into a score. The sheet lists only pairs with
evidence above the floor of :class:`~pipeline.rank.params.CommitteeParams` (``min_pairs``
candidate pairs scoring at least ``min_pair_score``, or a scope similarity of at least
``min_scope``), each with the item pairs that carry it and a reason naming what the two share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipeline.committees import body_of_committee, parent_committee
from pipeline.contracts import COMMITTEE_COLUMNS, committee_pair_id
from pipeline.evidence import itu_liaison_committees, parse_declared
from pipeline.rank.committee_features import (
    CommitteeFeatures,
    PairGroup,
    committee_features,
    committee_profiles,
)
from pipeline.rank.committee_model import load_committee_model
from pipeline.rank.params import CommitteeParams
from pipeline.utils.frames import str_col

__all__ = ["committee_profiles", "rank_committee_pairs", "score_committee_grid"]


def score_committee_grid(
    items: pd.DataFrame,
    pairs: pd.DataFrame | None,
    committees: pd.DataFrame | None = None,
    params: CommitteeParams | None = None,
    *,
    committee_vectors: np.ndarray | Mapping[str, np.ndarray] | None = None,
    item_vectors: np.ndarray | None = None,
) -> CommitteeFeatures:
    """The feature grid (every SG x every counterpart) with ``listed`` and ``score`` added.

    ``listed``: the row passes the evidence floor (``min_pairs`` pairs scoring at least
    ``min_pair_score``, or scope similarity at least ``min_scope``). ``score`` (0 for rows not
    listed): the model's 0..1 score (``params.aggregation == "model"``) or the plain sum of
    pair scores (``"sum"``, the TF-IDF baseline's aggregation).
    """
    p = params or CommitteeParams()
    feats = committee_features(
        items,
        pairs,
        committees,
        item_vectors=item_vectors,
        committee_vectors=committee_vectors,
        top_m=p.top_m,
        specificity_smoothing=p.specificity_smoothing,
        families=p.families,
    )
    f = feats.frame
    n_above = np.zeros(len(f), dtype=int)
    index = {k: i for i, k in enumerate(zip(f["itu_sg"], f["counterpart"], strict=True))}
    for key, g in feats.groups.items():
        n_above[index[key]] = int((g["score"] >= p.min_pair_score).sum())
    # Evidence: item pairs carrying it, a text citing the other side, or (without either) a
    # committee scope close to the SG's.
    listed = (
        (n_above >= max(1, p.min_pairs))
        | (f["citations"].to_numpy() > 0)
        | (f["scope_fwd"].to_numpy() >= p.min_scope)
    )
    f["listed"] = listed
    f["score"] = 0.0
    if p.aggregation == "sum":
        # breadth = log1p(sum of pair scores)
        f.loc[listed, "score"] = np.expm1(f.loc[listed, "breadth"].to_numpy())
    elif p.aggregation == "model":
        # The model standardises features within each SG over the listed rows, as when fitted.
        f.loc[listed, "score"] = load_committee_model(p.model).score(f[listed])
    else:
        raise ValueError(
            f"[committees] aggregation must be 'model' or 'sum', not {p.aggregation!r}"
        )
    return feats


def rank_committee_pairs(
    items: pd.DataFrame,
    pairs: pd.DataFrame,
    committees: pd.DataFrame | None = None,
    params: CommitteeParams | None = None,
    *,
    committee_vectors: np.ndarray | Mapping[str, np.ndarray] | None = None,
    item_vectors: np.ndarray | None = None,
) -> pd.DataFrame:
    """The Committee pairs sheet: one row per (study group, counterpart) above the evidence
    floor, sorted by ``rank``. Columns: :data:`~pipeline.contracts.COMMITTEE_COLUMNS`.

    ``item_vectors`` (len(items), d) and ``committee_vectors`` (aligned with ``committees``, or
    committee -> vector) give the scope features; without them those features are 0.
    """
    p = params or CommitteeParams()
    feats = score_committee_grid(
        items,
        pairs,
        committees,
        p,
        committee_vectors=committee_vectors,
        item_vectors=item_vectors,
    )
    f = feats.frame[feats.frame["listed"]]
    liaison_committees = itu_liaison_committees(committees)
    sg_declared: dict[str, set[str]] = {}
    for c, d in zip(str_col(items, "committee"), parse_declared(items), strict=True):
        sg_declared.setdefault(c, set()).update(d.committees)
    keys = list(zip(f["itu_sg"], f["counterpart"], strict=True))
    terms_of = feats.shared_terms_by_pair(keys, p.n_shared_keyphrases)
    rows = []
    for r in f.itertuples(index=False):
        g = feats.groups.get((r.itu_sg, r.counterpart))
        liaison = (
            r.counterpart in liaison_committees
            or bool(
                sg_declared.get(r.itu_sg, set()) & {r.counterpart, parent_committee(r.counterpart)}
            )
            or (
                g is not None
                and any(d in ("liaison", "relationship") for d in g["declared_relation"].tolist())
            )
        )
        terms = terms_of[(r.itu_sg, r.counterpart)]
        rows.append(_sheet_row(r, g, feats, p, liaison, terms))
    out = pd.DataFrame(rows, columns=[c for c in COMMITTEE_COLUMNS if c != "rank"])
    out = out.sort_values(
        ["score", "itu_sg", "counterpart"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)
    out.insert(out.columns.get_loc("score") + 1, "rank", np.arange(1, len(out) + 1))
    # Rounded after sorting: the order is the model's, not that of ties among rounded scores.
    out["score"] = out["score"].round(6)
    return out[list(COMMITTEE_COLUMNS)]


def _sheet_row(
    r: Any,
    g: PairGroup | None,
    feats: CommitteeFeatures,
    p: CommitteeParams,
    liaison: bool,
    terms: list[str],
) -> dict[str, Any]:
    """One row of the sheet from a grid row ``r``, the item pairs ``g`` carrying it and the
    shared keyphrases ``terms``."""
    sg, cp = r.itu_sg, r.counterpart
    cats = Counter(g["category"].tolist()) if g is not None else Counter()
    cited = feats.cited(sg, cp)
    return {
        "committee_pair_id": committee_pair_id(sg, cp),
        "itu_sg": sg,
        "counterpart": cp,
        "counterpart_body": body_of_committee(cp),
        "score": float(r.score),
        "n_pairs": int(r.n_pairs),
        "n_common_text": int(cats.get("common-text", 0)),
        "n_new_overlap": int(cats.get("new-overlap", 0)),
        "n_coordinated": int(cats.get("coordinated", 0)),
        "liaison_declared": bool(liaison),
        "strength": round(float(r.strength), 4),
        "breadth": round(float(r.breadth), 4),
        "specificity": round(float(r.specificity), 4),
        "coverage": round(float(r.coverage), 4),
        "scope_similarity": round(float(r.scope_fwd), 4),
        "mandate_similarity": round(float(r.scope_back), 4),
        "keyphrase_similarity": round(float(r.keyphrase_cosine), 4),
        "n_citations": round(float(np.expm1(r.citations))),
        "cited": _first(cited, 10),
        "shared_keyphrases": "; ".join(terms),
        "questions": _questions(g),
        "top_pairs": _top_pairs(g, p.n_top_pairs),
        "reason": _committee_reason(
            g,
            liaison,
            terms,
            float(r.specificity),
            p.reason_min_lift,
            float(r.scope_fwd),
            cited=cited,
            family=cp in feats.family_rows,
        ),
    }


def _first(names: list[str], n: int) -> str:
    """``"a; b; c"`` of the first ``n`` names, ``"... (+k more)"`` past them."""
    more = f" (+{len(names) - n} more)" if len(names) > n else ""
    return "; ".join(names[:n]) + more


def _questions(g: PairGroup | None) -> str:
    """Questions of the study group's items in the pairs, most pairs first."""
    if g is None or "itu_group" not in g:
        return ""
    counts = Counter(q for q in map(str, g["itu_group"].tolist()) if q)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "; ".join(f"{q} ({n})" for q, n in ordered)


def _top_pairs(g: PairGroup | None, n: int = 3) -> str:
    """The ``n`` best item pairs carrying a committee pair, ``"X.1 ~ ISO 2 (0.83); ..."``."""
    if g is None:
        return ""
    out = []
    for a, b, score in zip(*_pair_names(g, n), g["score"][:n].tolist(), strict=True):
        out.append(f"{a} ~ {b} ({score:.2f})")
    return "; ".join(out)


def _pair_names(g: PairGroup, n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` pairs' ITU-T and other-side names (reference, else uid)."""
    head = {c: g[c][:n].tolist() for c in _NAME_COLUMNS}
    itu = [r or u for r, u in zip(head["itu_reference"], head["itu_uid"], strict=True)]
    other = [r or u for r, u in zip(head["other_reference"], head["other_uid"], strict=True)]
    return itu, other


_NAME_COLUMNS = ("itu_reference", "itu_uid", "other_reference", "other_uid")


def _committee_reason(
    g: PairGroup | None,
    liaison: bool,
    terms: list[str],
    specificity: float,
    min_lift: float,
    scope: float,
    *,
    cited: list[str] | None = None,
    family: bool = False,
) -> str:
    """One line: what is shared, what is cited, how many item pairs carry it, how specific
    it is (``family``: the counterpart's subcommittees are counted with it)."""
    n = 0 if g is None else len(g)
    parts = ["with its subcommittees"] if family else []
    parts.append(f"shares {', '.join(terms[:3])}" if terms else "no distinctive keyphrase shared")
    if cited:
        more = f" and {len(cited) - 3} more" if len(cited) > 3 else ""
        parts.append(f"cites {', '.join(cited[:3])}{more}")
    if n == 0:
        parts.append(f"no item pair; scope similarity {scope:.2f}")
    if g is not None and not g.empty:
        (a,), (b,) = _pair_names(g, 1)
        best = float(g["score"][0])
        parts.append(f"{n} item pair{'s' if n != 1 else ''}, best {a} ~ {b} ({best:.2f})")
        cats = Counter(g["category"].tolist())
        if cats.get("common-text", 0):
            parts.append(f"{cats['common-text']} common texts")
    if np.exp(specificity) >= min_lift:
        # exp(PMI): how many times more of the committee's overlap goes to this SG than expected
        parts.append(f"{np.exp(specificity):.1f}x more overlap with this SG than expected")
    parts.append("liaison declared" if liaison else "no liaison declared")
    return "; ".join(parts)
