"""Measure the ranking against known relationships (``../shared/eval``).

Two measures (docs/evaluation.md):

- **Twin recovery**: for each ITU-T Recommendation of ``twins.csv`` (declared common texts, with
  the declarations hidden), the position of its ISO/IEC twin among that Recommendation's
  candidates. ``strict`` counts the exact record of ``twins.csv``; ``key`` counts any record of
  the same standard (``standard_keys``: another edition, an amendment or a DIS of the twin),
  because the corpus holds e.g. 45 amendments titled exactly like ISO/IEC 14496-4 and the
  declared equivalence is between standard numbers, not editions. Reported: recall@1, @5, MRR.
- **Committee pairs**: for each known (study group, counterpart) of ``committee_pairs.csv``,
  the counterpart's rank among that study group's committee pairs; share within the top 10 and
  MRR. Committees are compared through :func:`pipeline.committees.normalize_committee`.

Baselines computed in the same run: TF-IDF only (same candidate generation, aggregation and
ranking, with the TF-IDF cosine as the only signal) and random (uniform scores, seeded).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.committees import canonical_committee
from pipeline.graph import (
    PIPELINE,
    Config,
    graph_inputs,
    load_settings,
    open_stage_cache,
    run_record,
    seed_everything,
)
from pipeline.rank.committee_model import (
    CommitteeModel,
    fit_committee_model,
    load_committee_model,
    standardise_within,
)
from pipeline.rank.committees import rank_committee_pairs, score_committee_grid
from pipeline.references import standard_keys
from pipeline.utils.io import atomic_write_text
from pipeline.utils.timing import peak_rss_mb, timed

__all__ = [
    "CORPUS_FILES",
    "CorpusEvaluation",
    "Gold",
    "committee_metrics",
    "evaluate_corpus",
    "evaluate_run",
    "hide_declared",
    "load_gold",
    "markdown_report",
    "random_committee_metrics",
    "random_twin_metrics",
    "twin_metrics",
    "write_report",
]

CORPUS_FILES = ("itu_t_recommendations.jsonl.gz", "iso.jsonl.gz", "iec.jsonl.gz")
COMMITTEE_FILE = "committees.jsonl.gz"
REPORT_START = "<!-- results:start -->"
REPORT_END = "<!-- results:end -->"


@dataclass
class Gold:
    """Known relationships: ``twins`` (itu_uid, other_uid, ...) and ``committee_pairs``
    (itu_sg, counterpart, kind, ...), counterparts normalised."""

    twins: pd.DataFrame
    committee_pairs: pd.DataFrame


def load_gold(path: str | Path) -> Gold:
    """Read ``twins.csv`` and ``committee_pairs.csv`` from a folder (or the folder of a file)."""
    folder = Path(path)
    if folder.is_file():
        folder = folder.parent
    twins = pd.read_csv(folder / "twins.csv", dtype=str).fillna("")
    cps = pd.read_csv(folder / "committee_pairs.csv", dtype=str).fillna("")
    cps["itu_sg"] = cps["itu_sg"].map(canonical_committee)
    cps["counterpart"] = cps["counterpart"].map(canonical_committee)
    cps = cps.drop_duplicates(["itu_sg", "counterpart"]).reset_index(drop=True)
    return Gold(twins=twins, committee_pairs=cps)


def hide_declared(items: pd.DataFrame) -> pd.DataFrame:
    """A copy with every declared relation removed (text-only evaluation)."""
    out = items.copy()
    out["declared"] = [[] for _ in range(len(out))]
    return out


def _keys_of_uid(uid: str) -> set[str]:
    body, _, ref = uid.partition(":")
    return set(standard_keys(ref, body))


def _ranks_by_itu(pairs: pd.DataFrame, column: str) -> dict[str, tuple[list[str], list[set[str]]]]:
    """ITU uid -> (other uids ordered by ``column`` desc then uid, their standard keys)."""
    if pairs.empty:
        return {}
    cols = ["itu_uid", "other_uid", column]
    has_ref = "other_reference" in pairs.columns and "other_body" in pairs.columns
    if has_ref:
        cols += ["other_reference", "other_body"]
    p = pairs[cols].sort_values(
        ["itu_uid", column, "other_uid"], ascending=[True, False, True], kind="mergesort"
    )
    out: dict[str, tuple[list[str], list[set[str]]]] = {}
    for itu, g in p.groupby("itu_uid", sort=False):
        uids = g["other_uid"].astype(str).tolist()
        if has_ref:
            keys = [
                set(standard_keys(str(r), str(b)))
                for r, b in zip(g["other_reference"], g["other_body"], strict=True)
            ]
        else:
            keys = [_keys_of_uid(u) for u in uids]
        out[str(itu)] = (uids, keys)
    return out


def _reciprocal(ranks: np.ndarray) -> np.ndarray:
    """1 / rank, 0 for a rank of infinity (not found)."""
    return np.where(np.isfinite(ranks), 1.0 / ranks, 0.0)


def _summary(ranks: list[float]) -> dict[str, float]:
    arr = np.asarray(ranks, dtype=np.float64)
    n = len(arr)
    if n == 0:
        return {"n": 0, "recall@1": math.nan, "recall@5": math.nan, "mrr": math.nan}
    return {
        "n": n,
        "recall@1": float((arr <= 1).mean()),
        "recall@5": float((arr <= 5).mean()),
        "mrr": float(_reciprocal(arr).mean()),
    }


def twin_metrics(
    pairs: pd.DataFrame, twins: pd.DataFrame, column: str = "similarity"
) -> dict[str, dict[str, float]]:
    """Twin recovery from ranked candidate pairs, ordered per ITU-T item by ``column``.

    Returns ``{"strict": {...}, "key": {...}}`` each with ``n``, ``recall@1``, ``recall@5``,
    ``mrr``; a twin missing from the candidates has rank infinity (reciprocal rank 0).
    """
    ranked = _ranks_by_itu(pairs, column if column in pairs.columns else "score")
    strict, key = [], []
    for row in twins.itertuples(index=False):
        uids, keys = ranked.get(str(row.itu_uid), ([], []))
        target_keys = _keys_of_uid(str(row.other_uid))
        strict.append(uids.index(row.other_uid) + 1 if row.other_uid in uids else math.inf)
        hit = next((n + 1 for n, k in enumerate(keys) if k & target_keys), None)
        if row.other_uid in uids:
            hit = min(hit or math.inf, uids.index(row.other_uid) + 1)
        key.append(hit if hit is not None else math.inf)
    return {"strict": _summary(strict), "key": _summary(key)}


def random_twin_metrics(
    items: pd.DataFrame, twins: pd.DataFrame, seed: int
) -> dict[str, dict[str, float]]:
    """Twin recovery when every other-body item gets a uniform random score (seeded)."""
    rng = np.random.default_rng(seed)
    other = items[items["body"] != "ITU-T"]
    uids = other["uid"].astype(str).to_numpy()
    key_sets = [
        set(standard_keys(str(r), str(b)))
        for r, b in zip(other["reference"], other["body"], strict=True)
    ]
    pos = {u: i for i, u in enumerate(uids)}
    by_key: dict[str, list[int]] = {}
    for i, ks in enumerate(key_sets):
        for k in ks:
            by_key.setdefault(k, []).append(i)
    strict, key = [], []
    for row in twins.itertuples(index=False):
        if row.other_uid not in pos:
            strict.append(math.inf)
            key.append(math.inf)
            continue
        order = rng.permutation(len(uids))  # order[r] = item at rank r+1
        rank_of = np.empty(len(uids), dtype=np.int64)
        rank_of[order] = np.arange(1, len(uids) + 1)
        strict.append(float(rank_of[pos[row.other_uid]]))
        members = {pos[row.other_uid]}
        for k in _keys_of_uid(str(row.other_uid)):
            members.update(by_key.get(k, []))
        key.append(float(rank_of[list(members)].min()))
    return {"strict": _summary(strict), "key": _summary(key)}


def committee_metrics(
    committee_pairs: pd.DataFrame, gold: pd.DataFrame, top: int = 10
) -> dict[str, Any]:
    """Rank of each known counterpart among its study group's committee pairs.

    ``committee_pairs``: columns ``itu_sg``, ``counterpart``, ``score`` (or ``rank``). Returns
    ``n``, ``in_top`` (share with rank <= ``top``), ``mrr`` and ``per_pair`` (a DataFrame:
    itu_sg, counterpart, kind, rank).
    """
    cp = committee_pairs.copy()
    cp["itu_sg"] = cp["itu_sg"].astype(str).map(canonical_committee)
    cp["counterpart"] = cp["counterpart"].astype(str).map(canonical_committee)
    order = ["score", "itu_sg", "counterpart"]
    cp = cp.sort_values(order, ascending=[False, True, True], kind="mergesort")
    rank_in_sg: dict[tuple[str, str], int] = {}
    for sg, g in cp.groupby("itu_sg", sort=False):
        for r, c in enumerate(g["counterpart"].tolist(), start=1):
            rank_in_sg.setdefault((str(sg), c), r)
    rows = []
    for row in gold.itertuples(index=False):
        r = rank_in_sg.get((row.itu_sg, row.counterpart), math.inf)
        rows.append(
            {
                "itu_sg": row.itu_sg,
                "counterpart": row.counterpart,
                "kind": getattr(row, "kind", ""),
                "rank": r,
            }
        )
    return _rank_summary(pd.DataFrame(rows, columns=["itu_sg", "counterpart", "kind", "rank"]), top)


def _rank_summary(per_pair: pd.DataFrame, top: int) -> dict[str, Any]:
    """``n``, ``in_top`` (share with rank <= ``top``), ``mrr`` and ``per_pair`` itself."""
    ranks = per_pair["rank"].to_numpy(dtype=np.float64)
    n = len(ranks)
    return {
        "n": n,
        "in_top": float((ranks <= top).mean()) if n else math.nan,
        "mrr": float(_reciprocal(ranks).mean()) if n else math.nan,
        "per_pair": per_pair,
    }


def random_committee_metrics(
    committee_pairs: pd.DataFrame, gold: pd.DataFrame, seed: int, top: int = 10
) -> dict[str, Any]:
    """Committee metrics when each study group's counterparts are put in random order over the
    same candidate universe (every counterpart committee in ``committee_pairs``)."""
    rng = np.random.default_rng(seed)
    counterparts = sorted(set(committee_pairs["counterpart"].astype(str).map(canonical_committee)))
    sgs = sorted(set(gold["itu_sg"]) | set(committee_pairs["itu_sg"].astype(str)))
    rows = []
    for sg in sgs:
        scores = rng.random(len(counterparts))
        rows.extend(
            {"itu_sg": sg, "counterpart": c, "score": s}
            for c, s in zip(counterparts, scores, strict=True)
        )
    return committee_metrics(pd.DataFrame(rows), gold, top)


# --------------------------------------------------------------------------------------------
# committee model: leave-one-study-group-out


#: Name of the cross-validated committee figures in reports.
LOSO = "pipeline (leave-one-SG-out)"

#: Regularisation strengths tried (logistic regression ``C``; small = strong).
COMMITTEE_CS: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)


def committee_labels(frame: pd.DataFrame, gold: pd.DataFrame) -> np.ndarray:
    """(len(frame),) 1 where (``itu_sg``, ``counterpart``) is a known pair of ``gold``."""
    known = set(zip(gold["itu_sg"], gold["counterpart"], strict=True))
    pairs = zip(frame["itu_sg"], frame["counterpart"], strict=True)
    return np.fromiter(((sg, c) in known for sg, c in pairs), dtype=int, count=len(frame))


def _fold_scores(
    frame: pd.DataFrame, y: np.ndarray, features: Sequence[str], c: float, held: str, tf: str
) -> np.ndarray:
    """Scores of ``held``'s rows by a model fitted on the other study groups' rows."""
    train = (frame["itu_sg"] != held).to_numpy()
    model = fit_committee_model(frame[train], y[train], features, c, transform=tf)
    return model.decision(frame[~train])


def _loso_mrr(
    frame: pd.DataFrame, y: np.ndarray, features: Sequence[str], c: float, tf: str
) -> float:
    """Mean reciprocal rank of the known pairs when each SG is scored by the others' model."""
    scores = np.zeros(len(frame))
    for sg in sorted(set(frame["itu_sg"])):
        rows = (frame["itu_sg"] == sg).to_numpy()
        scores[rows] = _fold_scores(frame, y, features, c, sg, tf)
    order = frame.assign(score=scores)
    known = order[y == 1]
    return _known_mrr(order, known)


def _known_mrr(scored: pd.DataFrame, known: pd.DataFrame) -> float:
    return float(committee_metrics(scored, known)["mrr"])


def _dev_frame(grid: pd.DataFrame, gold: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Listed rows of the study groups that have known pairs, and their labels."""
    sgs = set(gold["itu_sg"])
    dev = grid[grid["listed"] & grid["itu_sg"].isin(sgs)].reset_index(drop=True)
    y = committee_labels(dev, gold)
    keep = dev["itu_sg"].isin(set(dev.loc[y == 1, "itu_sg"])).to_numpy()
    return dev[keep].reset_index(drop=True), y[keep]


def choose_committee_c(
    frame: pd.DataFrame,
    y: np.ndarray,
    features: Sequence[str],
    cs: Sequence[float],
    transform: str = "z",
) -> tuple[float, dict[float, float]]:
    """The ``C`` of ``cs`` with the best leave-one-SG-out MRR on ``frame`` (ties: smaller C,
    i.e. stronger regularisation), and the MRR of each. With known pairs in fewer than two
    study groups nothing can be held out: the smallest C, no figures."""
    if len(set(frame.loc[y == 1, "itu_sg"])) < 2:
        return min(cs), {}
    mrr = {c: _loso_mrr(frame, y, features, c, transform) for c in cs}
    best = max(sorted(cs), key=lambda c: (round(mrr[c], 6), -c))
    return best, mrr


def committee_cross_validation(
    grid: pd.DataFrame,
    gold: pd.DataFrame,
    features: Sequence[str],
    cs: Sequence[float] = COMMITTEE_CS,
    top: int = 10,
    transform: str = "z",
) -> dict[str, Any]:
    """Leave-one-study-group-out figures of the committee model on the known pairs.

    ``grid``: :func:`pipeline.rank.committees.score_committee_grid`'s frame (``listed`` and the
    features). For each study group with known pairs, ``C`` is chosen by an inner
    leave-one-SG-out over the *other* study groups, a model is fitted on them and the held-out
    SG's listed rows are ranked; a known pair not listed has rank infinity. Returns
    :func:`committee_metrics`' dict plus ``per_sg`` (itu_sg, n, in_top, mrr, C) and ``scored``
    (the held-out scores of every listed row).
    """
    dev, y = _dev_frame(grid, gold)
    if len(set(dev.loc[y == 1, "itu_sg"])) < 2:
        # One study group with known pairs: no model can be fitted without it.
        out = committee_metrics(dev.iloc[:0].assign(score=0.0), gold, top)
        out.update(in_top=math.nan, mrr=math.nan, per_sg=per_sg_table(out["per_pair"], top))
        out["scored"] = dev.iloc[:0][["itu_sg", "counterpart"]]
        return out
    scores = np.zeros(len(dev))
    chosen: dict[str, float] = {}
    for sg in sorted(set(dev["itu_sg"])):
        inner = (dev["itu_sg"] != sg).to_numpy()
        inner_dev = dev[inner].reset_index(drop=True)
        c, _ = choose_committee_c(inner_dev, y[inner], features, cs, transform)
        chosen[sg] = c
        scores[~inner] = _fold_scores(dev, y, features, c, sg, transform)
    scored = dev[["itu_sg", "counterpart"]].assign(score=scores)
    out = committee_metrics(scored, gold, top)
    out["per_sg"] = per_sg_table(out["per_pair"], top).assign(C=lambda t: t["itu_sg"].map(chosen))
    out["scored"] = scored
    return out


#: Name of the cross-validated figures of choosing fixed weights.
FIXED_LOSO = "fixed weights (chosen leave-one-SG-out)"

#: The fixed weightings the shipped weights were chosen among: a weight for ``strength`` and one
#: for ``citations``, every other feature of the model 1, on within-SG z-scores.
FIXED_WEIGHT_GRID: dict[str, tuple[float, ...]] = {
    "strength": (1.0, 2.0, 3.0),
    "citations": (0.0, 2.0, 5.0, 8.0, 12.0, 20.0),
}


def _weight_variants(features: Sequence[str]) -> list[tuple[float, ...]]:
    """Every weighting of ``features`` that :data:`FIXED_WEIGHT_GRID` spans."""
    axes = [FIXED_WEIGHT_GRID.get(f, (1.0,)) for f in features]
    return [tuple(w) for w in itertools.product(*axes)]


def fixed_weight_selection(
    grid: pd.DataFrame, gold: pd.DataFrame, features: Sequence[str], top: int = 10
) -> dict[str, Any]:
    """Leave-one-study-group-out figures of *choosing* fixed weights.

    For each study group with known pairs, the weighting of :func:`_weight_variants` with the
    best MRR on the other study groups' known pairs ranks it (ties: the earlier weighting); so
    the figure is out-of-sample for the choice, which the shipped model's in-sample row is
    not. ``grid``: :func:`pipeline.rank.committees.score_committee_grid`'s frame. Returns
    :func:`committee_metrics`' dict plus ``per_sg`` (with the ``weights`` chosen for each).
    """
    dev, _ = _dev_frame(grid, gold)
    z = standardise_within(dev, features)
    keys = dev[["itu_sg", "counterpart"]]
    variants = _weight_variants(features)
    ranks = {
        w: committee_metrics(keys.assign(score=z @ np.asarray(w)), gold, top)["per_pair"]
        for w in variants
    }
    chosen: dict[str, tuple[float, ...]] = {}
    held = []
    for sg in sorted(set(gold["itu_sg"])):

        def rr_elsewhere(w: tuple[float, ...], sg: str = sg) -> float:
            r = ranks[w].loc[ranks[w]["itu_sg"] != sg, "rank"].to_numpy(dtype=np.float64)
            return round(float(_reciprocal(r).sum()), 9)

        chosen[sg] = max(variants, key=lambda w: (rr_elsewhere(w), -variants.index(w)))
        held.append(ranks[chosen[sg]][ranks[chosen[sg]]["itu_sg"] == sg])
    per = pd.concat(held).set_index(["itu_sg", "counterpart"])
    per_pair = per.reindex(pd.MultiIndex.from_frame(gold[["itu_sg", "counterpart"]]))
    per_pair = per_pair.reset_index()[["itu_sg", "counterpart", "kind", "rank"]]
    out = _rank_summary(per_pair, top)
    out["per_sg"] = per_sg_table(per_pair, top).assign(
        weights=lambda t: t["itu_sg"].map(lambda sg: list(chosen[sg]))
    )
    return out


def per_sg_table(per_pair: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Per study group: known pairs ``n``, share in the top ``top``, MRR."""
    rows = []
    for sg, g in per_pair.groupby("itu_sg", sort=True):
        r = g["rank"].to_numpy(dtype=np.float64)
        rows.append(
            {
                "itu_sg": sg,
                "n": len(g),
                "in_top": float((r <= top).mean()),
                "mrr": float(_reciprocal(r).mean()),
            }
        )
    return pd.DataFrame(rows, columns=["itu_sg", "n", "in_top", "mrr"])


def fit_committee_artefact(
    grid: pd.DataFrame,
    gold: pd.DataFrame,
    features: Sequence[str],
    cs: Sequence[float] = COMMITTEE_CS,
    *,
    transform: str = "z",
    cv: Mapping[str, Any] | None = None,
) -> CommitteeModel:
    """The model to ship: ``C`` chosen by leave-one-SG-out over all study groups with known
    pairs, then fitted on all of them; ``cv`` (cross-validated figures) is recorded in it."""
    dev, y = _dev_frame(grid, gold)
    c, by_c = choose_committee_c(dev, y, features, cs, transform)
    fitted: dict[str, Any] = {"loso_mrr_by_C": {str(k): round(v, 4) for k, v in by_c.items()}}
    fitted["study_groups"] = sorted(set(dev["itu_sg"]))
    if cv:
        fitted["cv"] = dict(cv)
    model = fit_committee_model(dev, y, features, c, transform=transform, fitted=fitted)
    return model.versioned()


# --------------------------------------------------------------------------------------------
# a run folder


def evaluate_run(run_dir: str | Path, gold_path: str | Path) -> dict[str, Any]:
    """Metrics of a finished run (its ``candidate_pairs.csv`` and ``committee_pairs.csv``).

    Note: a run made without ``--hide-declared`` finds declared twins by their declaration.
    """
    run = Path(run_dir)
    gold = load_gold(gold_path)
    pairs = pd.read_csv(run / "candidate_pairs.csv", dtype={"itu_uid": str, "other_uid": str})
    cps = pd.read_csv(run / "committee_pairs.csv")
    out: dict[str, Any] = {"run": str(run)}
    out["twins_score"] = twin_metrics(pairs, gold.twins, "score")
    if "similarity" in pairs.columns:
        out["twins_similarity"] = twin_metrics(pairs, gold.twins, "similarity")
    out["committees"] = committee_metrics(cps, gold.committee_pairs)
    return out


# --------------------------------------------------------------------------------------------
# the corpus


@dataclass
class CorpusEvaluation:
    """Everything :func:`evaluate_corpus` measured (``markdown_report`` renders it)."""

    command: str
    n_items: dict[str, int]
    n_pairs: int
    n_committee_pairs: int
    n_areas: int
    twins: dict[str, dict[str, dict[str, float]]]
    committees: dict[str, dict[str, Any]]
    timings: dict[str, float]
    peak_rss_mb: float
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    committee_model: str = ""


def load_corpus(
    corpus: str | Path, limit: int | None = None, keep_uids: set[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items and committees of the shared corpus (read in place, never copied).

    ``limit`` keeps the first ``limit`` records of each item file plus ``keep_uids`` (the gold
    items, so metrics stay defined on a quick run).
    """
    from pipeline.sources import load_item_files

    folder = Path(corpus)
    if limit is None:
        parsed = load_item_files([folder / f for f in CORPUS_FILES])
        items = parsed.items
    else:
        frames = []
        for name in CORPUS_FILES:
            parsed = load_item_files([folder / name])
            frame = parsed.items
            keep = np.arange(len(frame)) < limit
            if keep_uids:
                keep |= frame["uid"].isin(keep_uids).to_numpy()
            frames.append(frame[keep])
        items = pd.concat(frames, ignore_index=True)
    committees = load_item_files([folder / COMMITTEE_FILE]).committees
    return items.reset_index(drop=True), committees.reset_index(drop=True)


# The TF-IDF baseline is the same graph with this overlay: TF-IDF neighbours as the only
# candidates (as many per item as the pipeline's semantic top_k), the TF-IDF cosine as the only
# signal, no priority; committee pairs scored by the sum of their pair scores.
def tfidf_overlay(config: Config) -> dict[str, dict[str, Any]]:
    """Config overlay that turns the pipeline into the TF-IDF-only baseline."""
    return {
        "match": {"top_k": 0, "lexical_top_k": config.match.top_k, "min_lexical": 0.0},
        "rank": {
            "w_semantic": 0.0,
            "w_lexical": 1.0,
            "w_title": 0.0,
            "w_explicit": 0.0,
            "w_activity": 0.0,
            "w_recency": 0.0,
            "early_stage_bonus": 0.0,
            "lexical_ceiling": 1.0,
            "hide_declared": True,
        },
        # The baseline of issue 10: similarities summed per committee, each on its own.
        "committees": {"aggregation": "sum", "families": False},
    }


#: Name of the committee figures with the twins' references removed (the leak check).
NO_TWIN_CITATIONS = "pipeline, twins' citations removed"


def without_twin_citations(items: pd.DataFrame, twins: pd.DataFrame) -> pd.DataFrame:
    """``items`` with no reference in text (``ref_standards``, ``ref_committees``) on either side
    of a known twin. A Recommendation's abstract that names its twin's number is nearly a
    declaration; committee figures on these items show how much citations owe to that."""
    twin_uids = set(twins["itu_uid"]) | set(twins["other_uid"])
    hit = items["uid"].isin(twin_uids).to_numpy()
    out = items.copy()
    for col in ("ref_standards", "ref_committees"):
        if col in out.columns:
            out[col] = [[] if h else v for h, v in zip(hit, out[col].tolist(), strict=True)]
    return out


def _citation_leak_check(data: Mapping[str, Any], cfg: Config, gold: Gold) -> dict[str, Any]:
    """Committee metrics of the shipped model on items without the twins' citations."""
    sheet = rank_committee_pairs(
        without_twin_citations(data["items"], gold.twins),
        data["pairs"],
        data["committees"],
        cfg.committees,
        committee_vectors=data["committee_vectors"],
        item_vectors=data["vectors"],
    )
    return committee_metrics(sheet, gold.committee_pairs)


def _measure(
    data: Mapping[str, Any], base: Mapping[str, Any], gold: Gold, seed: int
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, Any]]]:
    """Twin and committee metrics of the pipeline, the TF-IDF baseline and random."""
    pairs, cps = data["pairs"], data["committee_pairs"]
    twins = {
        "pipeline (similarity)": twin_metrics(pairs, gold.twins, "similarity"),
        "pipeline (score)": twin_metrics(pairs, gold.twins, "score"),
        "TF-IDF only": twin_metrics(base["pairs"], gold.twins, "score"),
        "random": random_twin_metrics(data["items"], gold.twins, seed),
    }
    comms = {
        "pipeline": committee_metrics(cps, gold.committee_pairs),
        "TF-IDF only": committee_metrics(base["committee_pairs"], gold.committee_pairs),
        "random": random_committee_metrics(cps, gold.committee_pairs, seed),
    }
    return twins, comms


def _committee_cv(
    data: Mapping[str, Any], cfg: Config, gold: Gold, fit_to: str | Path | None
) -> tuple[dict[str, Any], str, list[str]]:
    """Leave-one-SG-out figures of the committee model on the run's outputs (a fitted logistic
    regression, :data:`LOSO`, and the choice among fixed weights, :data:`FIXED_LOSO`),
    optionally a model fitted on all of it written to ``fit_to``. Returns (name -> figures,
    model version, notes)."""
    model = load_committee_model(cfg.committees.model)
    grid = score_committee_grid(
        data["items"],
        data["pairs"],
        data["committees"],
        cfg.committees,
        committee_vectors=data["committee_vectors"],
        item_vectors=data["vectors"],
    ).frame
    known = gold.committee_pairs
    cv = committee_cross_validation(grid, known, model.features, transform=model.transform)
    rows = {LOSO: cv}
    if model.transform == "z" and len(set(known["itu_sg"])) > 1:
        rows[FIXED_LOSO] = fixed_weight_selection(grid, known, model.features)
    notes = []
    if fit_to is not None:
        summary = {"loso_in_top10": round(cv["in_top"], 4), "loso_mrr": round(cv["mrr"], 4)}
        try:
            fitted = fit_committee_artefact(
                grid, known, model.features, transform=model.transform, cv=summary
            )
        except ValueError as exc:  # e.g. no listed row that is not a known pair
            notes.append(f"committee model not fitted: {exc}")
        else:
            atomic_write_text(Path(fit_to), fitted.to_json())
            notes.append(f"committee model {fitted.version} written to {fit_to}")
    return rows, model.version, notes


# The stages a baseline reruns; their outputs are dropped from the pipeline's data so the graph
# runs them again with the overlay (derived from the graph, so a new stage cannot be missed).
_BASELINE_STAGES = ("match", "rank", "overlaps", "committee pairs")
_RERUN = tuple(o for s in PIPELINE.stages if s.name in _BASELINE_STAGES for o in s.outputs)


def evaluate_corpus(
    corpus: str | Path,
    gold_path: str | Path,
    *,
    config: Config | None = None,
    limit: int | None = None,
    cache_dir: str | Path = "models",
    command: str = "",
    progress: Callable[[str], None] | None = None,
    nlp: Any = None,
    embedder: Any = None,
    fit_committee_model_to: str | Path | None = None,
) -> tuple[CorpusEvaluation, dict[str, Any]]:
    """Hide declared evidence and run :data:`pipeline.graph.PIPELINE` on the corpus, exactly
    as ``run`` would with ``config`` (``[rank] hide_declared`` forced on); then rerun match,
    rank and committee pairs with :func:`tfidf_overlay` for the baseline, and measure twins and
    committee pairs against ``gold_path``.

    ``cache_dir``: the run's cache root (vectors under ``<cache_dir>/embeddings``, as for run).
    ``nlp``/``embedder``: injected spaCy pipeline / embedder (tests). Committee pairs are
    also measured leave-one-SG-out; ``fit_committee_model_to``: write a model fitted on this
    run's known pairs there (:func:`_committee_cv`). Returns the evaluation and the run
    metadata (what run.json records: seed, model, cache use, timings)."""
    say = progress or (lambda _m: None)
    cfg = (config or load_settings()).overlay({"rank": {"hide_declared": True}})
    seed = cfg.run.seed
    seed_everything(seed)
    gold = load_gold(gold_path)
    timings: dict[str, float] = {}
    keep = set(gold.twins["itu_uid"]) | set(gold.twins["other_uid"])
    with timed(timings, "load", say):
        items, committees = load_corpus(corpus, limit, keep)
        items = hide_declared(items)
    given = graph_inputs(items, committees, cache_dir=Path(cache_dir), nlp=nlp, embedder=embedder)
    cache = open_stage_cache(cache_dir)
    data = PIPELINE.run(given, cfg, timings=timings, progress=say, cache=cache)
    pipeline_total = round(sum(timings.values()), 1)
    pairs, cps = data["pairs"], data["committee_pairs"]
    with timed(timings, "baselines", say):
        base_cfg = cfg.overlay(tfidf_overlay(cfg))
        base_in = {k: v for k, v in data.items() if k not in _RERUN}
        base = PIPELINE.run(base_in, base_cfg)
        items = data["items"]
        twins, comms = _measure(data, base, gold, seed)
    with timed(timings, "committee cross-validation", say):
        cv_rows, version, notes = _committee_cv(data, cfg, gold, fit_committee_model_to)
        for note in notes:
            say(note)
        comms = {"pipeline": comms["pipeline"], **cv_rows} | comms
        comms[NO_TWIN_CITATIONS] = _citation_leak_check(data, cfg, gold)
    timings["total (pipeline, without baselines)"] = pipeline_total
    evaluation = CorpusEvaluation(
        command=command,
        n_items={str(k): int(v) for k, v in items["body"].value_counts().sort_index().items()},
        n_pairs=len(pairs),
        n_committee_pairs=len(cps),
        n_areas=len(data["areas"]),
        twins=twins,
        committees=comms,
        timings=timings,
        peak_rss_mb=peak_rss_mb(),
        committee_model=version,
        notes=notes,
        params={
            "rank": cfg.rank,
            "committees": cfg.committees,
            "match": cfg.match,
            "enrich": cfg.enrich,
            "model": data["embed_info"].get("embedder", ""),
        },
    )
    meta = {
        "command": command,
        **run_record(cfg, data, timings, cache),
        "counts": {"items": len(items), "candidate_pairs": len(pairs), "committee_pairs": len(cps)},
    }
    return evaluation, meta


# --------------------------------------------------------------------------------------------
# report


def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def _num(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _rank_text(r: float) -> str:
    return "not listed" if not math.isfinite(r) else str(int(r))


def _committee_report(ev: CorpusEvaluation) -> list[str]:
    """Committee tables: overall, per study group, per known pair."""
    lines = [
        "",
        "### Committee pairs (known counterpart's rank within its study group)",
        "",
        f"Committee model `{ev.committee_model}`. *pipeline* is the shipped model on the pairs "
        "it was fitted on (**in-sample** when the model was fitted on this corpus); "
        f"*{LOSO}* scores each study group with a logistic regression fitted (and its "
        "regularisation chosen) on the other study groups' pairs only (**out-of-sample**); "
        f"*{FIXED_LOSO}* scores each study group with the fixed weighting (of "
        f"{len(_weight_variants(('strength', 'citations')))}: strength and citations weights) "
        "that ranks the other study groups' pairs best, the procedure that chose the shipped "
        "weights (**out-of-sample** for that choice). "
        f"*{NO_TWIN_CITATIONS}*: the shipped model when neither side of a known twin cites "
        "anything (an abstract naming its twin's number is nearly a declaration).",
        "",
        "| ranking | n | in top 10 | MRR |",
        "|---|---|---|---|",
    ]
    for name, m in ev.committees.items():
        lines.append(f"| {name} | {m['n']} | {_pct(m['in_top'])} | {_num(m['mrr'])} |")
    base = ev.committees.get("TF-IDF only", {}).get("mrr", math.nan)
    if base and not math.isnan(base):
        for name in ("pipeline", LOSO, FIXED_LOSO):
            if name not in ev.committees:
                continue
            ours = ev.committees.get(name, {}).get("mrr", math.nan)
            lines += ["", f"MRR ratio {name} / TF-IDF: {ours / base:.2f}x"]
    names = [n for n in ("pipeline", LOSO, FIXED_LOSO, "TF-IDF only") if n in ev.committees]
    per_sg = {n: per_sg_table(ev.committees[n]["per_pair"]).set_index("itu_sg") for n in names}
    lines += ["", "Per study group (in top 10 / MRR):", ""]
    lines += ["| study group | n | " + " | ".join(names) + " |"]
    lines += ["|---|---|" + "---|" * len(names)]
    for sg, row in per_sg[names[0]].iterrows():
        cells = [f"{_pct(t.loc[sg, 'in_top'])} / {_num(t.loc[sg, 'mrr'])}" for t in per_sg.values()]
        lines.append(f"| {sg} | {int(row['n'])} | " + " | ".join(cells) + " |")
    per = {n: ev.committees[n]["per_pair"]["rank"].tolist() for n in names}
    first = ev.committees[names[0]]["per_pair"]
    lines += ["", "<details><summary>Per known committee pair (rank)</summary>", ""]
    lines += ["| study group | counterpart | kind | " + " | ".join(names) + " |"]
    lines += ["|---|---|---|" + "---|" * len(names)]
    for i, row in enumerate(first.itertuples(index=False)):
        ranks = " | ".join(_rank_text(per[n][i]) for n in names)
        lines.append(f"| {row.itu_sg} | {row.counterpart} | {row.kind} | {ranks} |")
    return lines


def markdown_report(ev: CorpusEvaluation) -> str:
    """The results block of docs/evaluation.md."""
    lines = [
        f"Command: `{ev.command}`",
        "",
        "Items: "
        + ", ".join(f"{k} {v:,}" for k, v in ev.n_items.items())
        + f"; candidate pairs {ev.n_pairs:,}; committee pairs {ev.n_committee_pairs:,}; "
        f"areas {ev.n_areas:,}.",
        "",
        "### Twin recovery (declared equivalents hidden)",
        "",
        "| ranking | n | top-1 (key) | top-5 (key) | MRR (key) | top-1 (strict) | "
        "top-5 (strict) | MRR (strict) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in ev.twins.items():
        k, s = m["key"], m["strict"]
        lines.append(
            f"| {name} | {k['n']} | {_pct(k['recall@1'])} | {_pct(k['recall@5'])} | "
            f"{_num(k['mrr'])} | {_pct(s['recall@1'])} | {_pct(s['recall@5'])} | "
            f"{_num(s['mrr'])} |"
        )
    lines += _committee_report(ev)
    lines += ["", "</details>", "", "### Time and memory (2 cores)", "", "| stage | seconds |"]
    lines.append("|---|---|")
    lines += [f"| {k} | {v:.1f} |" for k, v in ev.timings.items()]
    lines += ["", f"Peak resident memory: {ev.peak_rss_mb:,.0f} MiB.", ""]
    lines += [f"Note: {n}" for n in ev.notes] + ([""] if ev.notes else [])
    if ev.params:
        lines += ["Parameters:", "", "```"]
        lines += [f"{k}: {v}" for k, v in ev.params.items()]
        lines += ["```", ""]
    return "\n".join(lines)


def write_report(path: str | Path, block: str) -> Path:
    """Write ``block`` between the results markers of ``path`` (created if missing); text
    outside the markers (method notes, history) is kept."""
    target = Path(path)
    text = target.read_text("utf-8") if target.exists() else ""
    wrapped = f"{REPORT_START}\n{block}\n{REPORT_END}"
    if REPORT_START in text and REPORT_END in text:
        head, _, rest = text.partition(REPORT_START)
        _, _, tail = rest.partition(REPORT_END)
        text = head + wrapped + tail
    else:
        text = (text or "# Evaluation\n\n") + "\n" + wrapped + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, "utf-8")
    return target


def summary_json(result: Mapping[str, Any]) -> str:
    """JSON of evaluate_run's result (DataFrames as records, inf as null)."""

    def conv(o: Any) -> Any:
        if isinstance(o, pd.DataFrame):
            return json.loads(o.to_json(orient="records"))
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        return o

    return json.dumps(conv(dict(result)), indent=2)
