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

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.committees import canonical_committee
from pipeline.graph import PIPELINE, Config, load_settings, run_record, seed_everything
from pipeline.references import standard_keys
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


def _summary(ranks: list[float]) -> dict[str, float]:
    arr = np.asarray(ranks, dtype=np.float64)
    n = len(arr)
    if n == 0:
        return {"n": 0, "recall@1": math.nan, "recall@5": math.nan, "mrr": math.nan}
    return {
        "n": n,
        "recall@1": float((arr <= 1).mean()),
        "recall@5": float((arr <= 5).mean()),
        "mrr": float(np.where(np.isfinite(arr), 1.0 / arr, 0.0).mean()),
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
    per = pd.DataFrame(rows, columns=["itu_sg", "counterpart", "kind", "rank"])
    ranks = per["rank"].to_numpy(dtype=np.float64)
    return {
        "n": len(per),
        "in_top": float((ranks <= top).mean()) if len(per) else math.nan,
        "mrr": float(np.where(np.isfinite(ranks), 1 / ranks, 0).mean()) if len(per) else math.nan,
        "per_pair": per,
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
# signal, no priority, no committee scope.
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
        "committees": {"scope_weight": 0.0},
    }


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


# Outputs of the stages a baseline reruns (match, rank, overlaps, committee pairs).
_RERUN = ("candidates", "ranked_pairs", "pairs", "overlaps", "committee_pairs")


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
) -> tuple[CorpusEvaluation, dict[str, Any]]:
    """Hide declared evidence and run :data:`pipeline.graph.PIPELINE` on the corpus, exactly
    as ``run`` would with ``config`` (``[rank] hide_declared`` forced on); then rerun match,
    rank and committee pairs with :func:`tfidf_overlay` for the baseline, and measure twins and
    committee pairs against ``gold_path``.

    ``cache_dir``: the run's cache root (vectors under ``<cache_dir>/embeddings``, as for run).
    ``nlp``/``embedder``: injected spaCy pipeline / embedder (tests). Returns the evaluation
    and the run metadata (what run.json records: seed, model, cache use, timings).
    """
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
    given: dict[str, Any] = {
        "raw_items": items,
        "raw_committees": committees,
        "cache_dir": Path(cache_dir),
    }
    given.update({k: v for k, v in (("nlp", nlp), ("embedder", embedder)) if v is not None})
    data = PIPELINE.run(given, cfg, timings=timings, progress=say)
    pipeline_total = round(sum(timings.values()), 1)
    pairs, cps = data["pairs"], data["committee_pairs"]
    with timed(timings, "baselines", say):
        base_cfg = cfg.overlay(tfidf_overlay(cfg))
        base_in = {k: v for k, v in data.items() if k not in _RERUN}
        base = PIPELINE.run(base_in, base_cfg)
        items = data["items"]
        twins, comms = _measure(data, base, gold, seed)
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
        **run_record(cfg, data, timings),
        "counts": {"items": len(items), "candidate_pairs": len(pairs), "committee_pairs": len(cps)},
    }
    return evaluation, meta


# --------------------------------------------------------------------------------------------
# report


def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def _num(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


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
    lines += [
        "",
        "### Committee pairs (known counterpart's rank within its study group)",
        "",
        "| ranking | n | in top 10 | MRR |",
        "|---|---|---|---|",
    ]
    for name, m in ev.committees.items():
        lines.append(f"| {name} | {m['n']} | {_pct(m['in_top'])} | {_num(m['mrr'])} |")
    base = ev.committees.get("TF-IDF only", {}).get("mrr", math.nan)
    ours = ev.committees.get("pipeline", {}).get("mrr", math.nan)
    if base and not math.isnan(base):
        lines += ["", f"MRR ratio pipeline / TF-IDF: {ours / base:.2f}x"]
    per = ev.committees["pipeline"]["per_pair"]
    lines += ["", "<details><summary>Per known committee pair</summary>", ""]
    lines += ["| study group | counterpart | kind | rank |", "|---|---|---|---|"]
    for row in per.itertuples(index=False):
        r = "not ranked" if not math.isfinite(row.rank) else str(int(row.rank))
        lines.append(f"| {row.itu_sg} | {row.counterpart} | {row.kind} | {r} |")
    lines += ["", "</details>", "", "### Time and memory (2 cores)", "", "| stage | seconds |"]
    lines.append("|---|---|")
    lines += [f"| {k} | {v:.1f} |" for k, v in ev.timings.items()]
    lines += ["", f"Peak resident memory: {ev.peak_rss_mb:,.0f} MiB.", ""]
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
