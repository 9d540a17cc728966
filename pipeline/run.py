"""The batch job: parse -> the stage graph (pipeline.graph) -> triage -> export.

``run_pipeline`` parses the inputs, runs :data:`pipeline.graph.PIPELINE` (the same graph
``evaluate-corpus`` runs), carries decisions over and owns the run folder: it writes everything into
``<out>/<run-id>.partial/`` and renames that folder into place at the end, so a run folder either
holds a whole run or does not exist, and no run ever writes over an earlier one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.embed import Embedder
from pipeline.errors import UserError
from pipeline.export import write_outputs
from pipeline.graph import (
    PIPELINE,
    Config,
    GraphError,
    graph_inputs,
    open_stage_cache,
    run_record,
    seed_everything,
)
from pipeline.preflight import check_run
from pipeline.results import ParsedInput, RunResult
from pipeline.sources import load_item_files, parse_snapshot
from pipeline.sources.items_files import duplicate_uid_errors
from pipeline.triage import TriageOutcome, carry_over
from pipeline.utils.io import atomic_write_text, json_text, sha256_file
from pipeline.utils.runfolder import create_partial, publish_partial, remove_partial
from pipeline.utils.timing import timed

__all__ = ["RunError", "RunOptions", "run_pipeline"]

Progress = Callable[[str], None]


class RunError(UserError, RuntimeError):
    """A run that cannot start or finish (no inputs, no items); the message says why."""


@dataclass
class RunOptions:
    """What one run reads, where it writes, and the stages a caller may plug in.

    ``embedder`` and ``nlp`` replace the configured model and spaCy pipeline (tests, notebooks);
    ``vectors`` skips embedding altogether: (n_items, d) float32 rows in item order.
    ``stage_cache``: read stages whose inputs, config and code are unchanged back from
    ``<cache_dir>/stages`` (and store those that ran).
    """

    snapshot: Path | None = None
    items_files: Sequence[Path] = ()
    out_dir: Path = Path("data/processed")
    config_path: Path | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    previous: Path | None = None
    allow_unplaced_decisions: bool = False
    cache_dir: Path = Path("models")
    stage_cache: bool = True
    embedder: Embedder | None = None
    nlp: Any = None
    vectors: np.ndarray | None = None
    # issue 9: "study-group" also writes one workbook per ITU-T study group beside the full one.
    split_by: str | None = None


def _merge_inputs(parts: Sequence[ParsedInput]) -> ParsedInput:
    """One ParsedInput from a snapshot and item files; a uid seen twice keeps its first row
    and the later one is reported as an error (:func:`duplicate_uid_errors`)."""
    if len(parts) == 1:
        return parts[0]
    merged = ParsedInput()
    for p in parts:
        merged.errors.extend(p.errors)
    for name in ("items", "committees"):
        frames = [getattr(p, name) for p in parts if not getattr(p, name).empty]
        if frames:
            combined = pd.concat(frames, ignore_index=True)
            merged.errors.extend(duplicate_uid_errors(combined))
            setattr(merged, name, combined.drop_duplicates("uid").reset_index(drop=True))
    for p in parts:
        merged.sources.extend(p.sources)
        merged.attribution.extend(a for a in p.attribution if a not in merged.attribution)
    return merged


def _parse_inputs(options: RunOptions) -> ParsedInput:
    """The snapshot and item files of ``options``, parsed and merged."""
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
    return _merge_inputs(parts)


def _input_files(
    options: RunOptions, sources: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Path and sha256 of each input file, and the text encoding an item file was read in."""
    files = [Path(p) for p in options.items_files]
    if options.snapshot is not None:
        manifest = Path(options.snapshot) / "manifest.json"
        if manifest.exists():
            files.append(manifest)
    encodings = {s["location"]: s["encoding"] for s in sources if s.get("encoding")}
    return [
        {"path": str(p), "sha256": sha256_file(p)}
        | ({"encoding": encodings[str(p)]} if str(p) in encodings else {})
        for p in files
        if p.is_file()
    ]


def run_pipeline(options: RunOptions, progress: Progress | None = None) -> tuple[Path, RunResult]:
    """Run the whole job once. Returns the run folder and what was written into it.

    Raises :class:`RunError` when there is nothing to read or no item survived parsing; bad
    records never raise: they are reported in ``result.errors`` and in the workbook.
    """
    say = progress or (lambda _msg: None)
    if options.snapshot is None and not options.items_files:
        raise RunError("nothing to read: give --snapshot DIR or --items FILE")
    config = check_run(
        snapshot=options.snapshot,
        items_files=options.items_files,
        out_dir=options.out_dir,
        config_path=options.config_path,
        overrides=options.overrides,
        previous=options.previous,
        allow_unplaced_decisions=options.allow_unplaced_decisions,
    )
    seed_everything(config.run.seed)
    timings: dict[str, float] = {}
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    with timed(timings, "parse", say):
        parsed = _parse_inputs(options)
    if parsed.items.empty:
        detail = "; ".join(f"{e.location}: {e.reason}" for e in parsed.errors[:5])
        raise RunError(f"no usable items in the inputs{': ' + detail if detail else ''}")

    cache = open_stage_cache(options.cache_dir if options.stage_cache else None)
    try:
        given = _given(options, parsed) | {"show_progress": progress is not None}
        data = PIPELINE.run(given, config, timings=timings, progress=say, cache=cache)
    except GraphError as exc:
        raise RunError(str(exc)) from exc
    items = data["items"].assign(area=data["item_area"])
    committees, vectors, areas = data["committees"], data["vectors"], data["areas"]
    pairs, committee_pairs = data["pairs"], data["committee_pairs"]

    changes = unmatched = pd.DataFrame()
    if options.previous is not None:
        with timed(timings, "triage", say):
            outcome = _carry_over(Path(options.previous), pairs, committee_pairs, items, config)
            pairs, committee_pairs = outcome.pairs, outcome.committee_pairs
            changes, unmatched = outcome.changes, outcome.unmatched

    partial, run_id = create_partial(Path(options.out_dir))
    meta: dict[str, Any] = {
        "run_id": run_id,
        "created": started,
        "inputs": _input_files(options, parsed.sources),
        "snapshot": str(options.snapshot) if options.snapshot else "",
        "snapshot_dates": sorted({s for s in items["snapshot"] if s}),
        "previous": str(options.previous) if options.previous else "",
        **run_record(config, data, timings, cache),
        "counts": _counts(items, committees, pairs, committee_pairs, areas, parsed.errors),
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
        overlaps=data["overlaps"],
    )
    return _publish(partial, result, timings, say, options.split_by), result


def _carry_over(
    previous: Path,
    pairs: pd.DataFrame,
    committee_pairs: pd.DataFrame,
    items: pd.DataFrame,
    config: Config,
) -> TriageOutcome:
    """Analysts' decisions from the earlier workbook, put on this run's pairs."""
    return carry_over(
        previous,
        pairs,
        committee_pairs,
        items,
        previous_items=_previous_items(previous),
        params=config.triage,
    )


def _previous_items(previous: Path) -> pd.DataFrame | None:
    """Every item's stage in the earlier run (its items.parquet, beside its workbook), or None:
    the workbook's Items sheet lists only the items of the pairs it shows (issue 9)."""
    folder = previous if previous.is_dir() else previous.parent
    path = folder / "items.parquet"
    if not path.is_file():
        return None
    return pd.read_parquet(path, columns=["uid", "stage", "stage_group"])


def _given(options: RunOptions, parsed: ParsedInput) -> dict[str, Any]:
    """The graph's inputs: parsed items and committees, plus whatever the caller plugged in."""
    return graph_inputs(
        parsed.items,
        parsed.committees,
        cache_dir=Path(options.cache_dir),
        nlp=options.nlp,
        embedder=options.embedder,
        precomputed_vectors=options.vectors,
    )


def _publish(
    partial: Path,
    result: RunResult,
    timings: dict[str, float],
    say: Progress,
    split_by: str | None = None,
) -> Path:
    """Export into ``partial``, write run.json, then rename it into place in one step.
    ``split_by="study-group"`` adds one workbook per study group beside the full one."""
    try:
        with timed(timings, "export", say):
            write_outputs(partial, result, split_by=split_by)
        atomic_write_text(partial / "run.json", json_text(result.meta))
        final = publish_partial(partial)
    except BaseException:
        # A failed or interrupted export leaves no half-written run behind.
        remove_partial(partial)
        raise
    return final


def _counts(
    items: pd.DataFrame,
    committees: pd.DataFrame,
    pairs: pd.DataFrame,
    committee_pairs: pd.DataFrame,
    areas: pd.DataFrame,
    errors: Sequence[Any],
) -> dict[str, Any]:
    """run.json's ``counts``."""
    per_category = pairs["category"].value_counts().items() if not pairs.empty else []
    return {
        "items": len(items),
        "items_per_body": {str(k): int(v) for k, v in items["body"].value_counts().items()},
        "committees": len(committees),
        "candidate_pairs": len(pairs),
        "pairs_per_category": {str(k): int(v) for k, v in per_category},
        "committee_pairs": len(committee_pairs),
        "areas": len(areas),
        "errors": len(errors),
    }
